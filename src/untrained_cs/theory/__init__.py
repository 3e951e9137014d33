"""The paper's theory as tools: trigonometric basis, kernel weights, Jacobian spectra, bounds."""

from .basis import energy_spectrum, frequencies, project, smooth_signal, trig_basis

__all__ = ["energy_spectrum", "frequencies", "project", "smooth_signal", "trig_basis"]
