"""Compressive sensing with un-trained convolutional generators.

Importing the package imports :mod:`.operators` and :mod:`.mri`, so the operator registry
holds every entry (the MRI forward models register themselves) after any import of it.
"""

from . import mri, operators

__all__ = ["mri", "operators"]
