"""The paper's theory as tools: trigonometric basis, kernel weights, Jacobian spectra, bounds."""

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
from .jacobian import dense_jacobian, gram_matrix, singular_values, top_singular
from .linear_theorem import min_norm_estimate, theorem1_bound, theorem1_curve
from .spectrum import spectrum_across_iterations
from .two_layer_theorem import theorem2_bound, theorem3_step
from .weights import (
    explicit_eigenvalues,
    explicit_sigma,
    fit_gamma,
    kernel_weights,
    monte_carlo_sigma,
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
    "monte_carlo_sigma",
    "orthonormality_error",
    "paper_functions",
    "paper_index_column",
    "project",
    "singular_values",
    "smooth_signal",
    "sorted_weights",
    "spectrum_across_iterations",
    "theorem1_bound",
    "theorem1_curve",
    "theorem2_bound",
    "theorem3_step",
    "top_singular",
    "trig_basis",
]
