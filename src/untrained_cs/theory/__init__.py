"""The paper's theory as mathematics: trigonometric basis, kernel weights, Jacobians and
their spectra, the theorems' bounds.

Nothing here fits a generator or builds a problem: those runners are
:mod:`untrained_cs.experiments`'. The modules depend on torch, numpy, scipy (lazily) and
the operator interface only, so every other package may use them.
"""

from .basis import (
    energy_spectrum,
    frequencies,
    orthonormality_error,
    paper_functions,
    paper_index_column,
    project,
    smooth_signal,
    trig_basis,
)
from .jacobian import dense_jacobian, gram_matrix, singular_values, summation_matrix, top_singular
from .linear_theorem import min_norm_estimate, theorem1_bound
from .spectrum import relative_change
from .two_layer_theorem import theorem2_bound, theorem3_step
from .weights import (
    explicit_eigenvalues,
    explicit_sigma,
    fit_gamma,
    kernel_weights,
    sorted_weights,
)

__all__ = [
    "dense_jacobian",
    "energy_spectrum",
    "explicit_eigenvalues",
    "explicit_sigma",
    "fit_gamma",
    "frequencies",
    "gram_matrix",
    "kernel_weights",
    "min_norm_estimate",
    "orthonormality_error",
    "paper_functions",
    "paper_index_column",
    "project",
    "relative_change",
    "singular_values",
    "smooth_signal",
    "sorted_weights",
    "summation_matrix",
    "theorem1_bound",
    "theorem2_bound",
    "theorem3_step",
    "top_singular",
    "trig_basis",
]
