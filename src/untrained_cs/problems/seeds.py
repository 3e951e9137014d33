"""The one seed derivation: every random draw of a problem or a fit from one root seed.

``derive_seed(root, purpose, index)`` hashes ``(root, purpose, index)`` with BLAKE2b into a
63-bit seed, so that the draws for different purposes (the generator's members, the
operator, the noise, the MRI mask, a hold-out split, a p-smooth signal's coefficients, the
root seeds of an experiment's repeated trials) are independent of each other and of
neighbouring root seeds, and the same on every machine and
in every process. ``index`` numbers repeated draws of one purpose (generator members).

The purposes are the keys of :data:`PURPOSES`; a new kind of draw adds one key here.
"""

from __future__ import annotations

import hashlib

PURPOSES = ("generator", "operator", "noise", "mask", "signal", "holdout", "coils", "trial")
MAX_ROOT = 2**63 - 1


def check_root(seed: object) -> int:
    """A root seed as an int in [0, 2^63), or a ``ValueError`` naming the value."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        if isinstance(seed, float) and seed.is_integer():
            seed = int(seed)
        else:
            raise ValueError(f"seed must be an integer, got {seed!r}")
    if not 0 <= seed <= MAX_ROOT:
        raise ValueError(f"seed must lie in [0, 2^63 - 1], got {seed}")
    return seed


def derive_seed(root: int, purpose: str, index: int = 0) -> int:
    """The seed of draw ``index`` for ``purpose`` under the root seed ``root``."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown seed purpose {purpose!r}; known: {', '.join(PURPOSES)}")
    text = f"untrained-cs/{purpose}/{index}/{check_root(root)}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") & MAX_ROOT


def member_seeds(root: int, members: int) -> list[int]:
    """Seeds of ``members`` independent generator members."""
    return [derive_seed(root, "generator", b) for b in range(members)]
