"""fastMRI's file layout: what its ``.h5`` files say besides ``kspace``, and its output file.

A fastMRI file carries an ISMRMRD header (``ismrmrd_header``, XML) whose encoding section
gives the acquired matrix (``encodedSpace/matrixSize``), the reconstruction matrix
(``reconSpace/matrixSize``: the size fastMRI crops its targets to, 320 x 320 for the knee
data) and the sampled phase-encoding lines (``encodingLimits/kspace_encoding_step_1``:
with the encoded width they give the zero padding at the sides of k-space). Test and
challenge files add a ``mask`` dataset (the sampled columns) and the attributes
``acceleration`` and ``num_low_frequency``. Submissions (one ``.h5`` per volume with a
``reconstruction`` dataset ``[slices, H, W]``) are written by
:func:`untrained_cs.io.writers.write_reconstruction` (``--save fastmri``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import numpy as np

#: the ISMRMRD namespace of the header's elements
NAMESPACE = "http://www.ismrm.org/ISMRMRD"


@dataclass(frozen=True)
class Header:
    """The header's facts a reconstruction needs.

    Attributes:
        encoded: the acquired k-space matrix (H, W) (``encodedSpace``).
        recon: the reconstruction matrix (H, W) (``reconSpace``): the crop of the targets.
        padding: the first and one-past-last sampled column of the phase-encoding axis;
            the columns outside are zero padding (None when the limits are absent).
    """

    encoded: tuple[int, int]
    recon: tuple[int, int]
    padding: tuple[int, int] | None


def parse_header(xml: str | bytes, source: str = "ismrmrd_header") -> Header:
    """The :class:`Header` of an ISMRMRD XML header.

    Raises:
        ValueError: one line naming ``source`` when the XML does not parse or lacks the
            matrix sizes.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"{source} does not parse as XML: {exc}") from None

    def number(*path: str) -> int | None:
        node = root.find("/".join(f"{{{NAMESPACE}}}{p}" for p in ("encoding", *path)))
        if node is None or node.text is None:
            return None
        try:
            return int(float(node.text))
        except ValueError:
            raise ValueError(f"{source}: {'/'.join(path)} is not a number: {node.text!r}") from None

    sizes = {}
    for space in ("encodedSpace", "reconSpace"):
        x, y = number(space, "matrixSize", "x"), number(space, "matrixSize", "y")
        if x is None or y is None:
            raise ValueError(f"{source} has no {space}/matrixSize x and y")
        sizes[space] = (x, y)
    centre = number("encodingLimits", "kspace_encoding_step_1", "center")
    last = number("encodingLimits", "kspace_encoding_step_1", "maximum")
    padding = None
    width = sizes["encodedSpace"][1]
    if centre is not None and last is not None:
        left = width // 2 - centre
        padding = (left, left + last + 1)
    return Header(sizes["encodedSpace"], sizes["reconSpace"], padding)


@dataclass(frozen=True)
class FileFacts:
    """What a fastMRI file holds besides ``kspace``: its header (None when absent), the
    sampled columns ``mask`` (test and challenge files) and their attributes."""

    header: Header | None
    mask: np.ndarray | None
    acceleration: float | None
    num_low_frequency: int | None


def file_facts(f: Any, source: str) -> FileFacts:
    """The :class:`FileFacts` of an open ``h5py.File``; ``source`` names it in errors."""
    header = None
    if "ismrmrd_header" in f:
        raw = f["ismrmrd_header"][()]
        header = parse_header(raw, f"{source}: ismrmrd_header")
    mask = np.asarray(f["mask"][()]).astype(bool).reshape(-1) if "mask" in f else None
    attrs = f.attrs
    acc = float(attrs["acceleration"]) if "acceleration" in attrs else None
    low = int(attrs["num_low_frequency"]) if "num_low_frequency" in attrs else None
    return FileFacts(header, mask, acc, low)
