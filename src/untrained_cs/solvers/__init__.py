"""Classical solvers on any registered operator: min-norm least squares (CG), ℓ1-wavelet
(FISTA), total variation (PDHG), and baselines with a rule for their weights.

Step sizes come from the operator's norm (power iteration), never from an assumed scale.
Solvers import operators; operators import nothing from here.
"""

from .baselines import BASELINES, GRIDS, BaselineResult, run_baselines, solver, truth_score
from .choose import (
    WEIGHT_CHOICES,
    Choice,
    RowSubset,
    choose_discrepancy,
    choose_holdout,
    choose_oracle,
    measurement_dof,
)
from .fista import fista, l1_objective
from .least_squares import min_norm, min_norm_solve
from .norms import lipschitz_constant, operator_norm
from .result import SolveResult
from .tv import gradient, gradient_adjoint, total_variation, tv_objective, tv_pdhg
from .wavelets import WaveletTransform, l1_norm, prox_l1, soft_threshold, wavelet_for

__all__ = [
    "BASELINES",
    "GRIDS",
    "WEIGHT_CHOICES",
    "BaselineResult",
    "Choice",
    "RowSubset",
    "SolveResult",
    "WaveletTransform",
    "choose_discrepancy",
    "choose_holdout",
    "choose_oracle",
    "fista",
    "gradient",
    "gradient_adjoint",
    "l1_norm",
    "l1_objective",
    "lipschitz_constant",
    "measurement_dof",
    "min_norm",
    "min_norm_solve",
    "operator_norm",
    "prox_l1",
    "run_baselines",
    "soft_threshold",
    "solver",
    "total_variation",
    "truth_score",
    "tv_objective",
    "tv_pdhg",
    "wavelet_for",
]
