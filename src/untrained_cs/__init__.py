"""Compressive sensing with un-trained convolutional generators.

Importing the package imports :mod:`.operators` and :mod:`.mri`, so the operator registry
holds every entry (the MRI forward models register themselves) and
:func:`~untrained_cs.problems.build` builds MRI specs (the MRI problems register their
builder) after any import of it.
"""

from . import mri, operators

__all__ = ["mri", "operators"]
