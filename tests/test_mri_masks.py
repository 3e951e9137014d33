"""Cartesian masks: acceleration within 5%, centre kept, seeded, bad inputs rejected."""

from __future__ import annotations

import pytest
import torch

from untrained_cs.mri import cartesian_mask, default_center_fraction
from untrained_cs.mri.masks import center_columns


@pytest.mark.parametrize("kind", ["random", "equispaced"])
@pytest.mark.parametrize("acc", [4.0, 8.0])
@pytest.mark.parametrize("width", [256, 320, 368])
def test_masks_hit_their_acceleration_and_keep_the_centre(kind, acc, width):
    for seed in range(3):
        m = cartesian_mask(width, acc, kind=kind, seed=seed)
        assert m.achieved_acceleration == pytest.approx(acc, rel=0.05)
        centre = center_columns(width, default_center_fraction(acc))
        assert bool((m.columns[centre > 0] == 1).all())
        assert int(centre.sum()) == round(width * default_center_fraction(acc))
        assert m.columns[width // 2] == 1  # the DC column


def test_defaults_follow_fastmri():
    assert default_center_fraction(4) == 0.08 and default_center_fraction(8) == 0.04


def test_masks_are_seeded():
    a = cartesian_mask(128, 4, seed=3).columns
    torch.testing.assert_close(a, cartesian_mask(128, 4, seed=3).columns)
    assert not torch.equal(a, cartesian_mask(128, 4, seed=4).columns)


def test_equispaced_has_regular_spacing_outside_the_centre():
    m = cartesian_mask(320, 4, 0.08, "equispaced", seed=0).columns
    centre = center_columns(320, 0.08)
    idx = torch.nonzero((m > 0) & (centre == 0)).flatten()
    gaps = sorted(idx.diff().tolist())
    spacing = 4 * (320 - 26) / (320 - 4 * 26)  # fastMRI's adjusted acceleration, 5.44
    assert gaps[-1] > 26  # one jump over the centre block
    assert set(gaps[:-1]) <= {int(spacing), int(spacing) + 1}


def test_acceleration_one_samples_everything():
    assert cartesian_mask(64, 1.0).sampled == 64


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"acceleration": 0.5}, "acceleration must be >= 1"),
        ({"acceleration": float("nan")}, "acceleration"),
        ({"acceleration": 4, "center_fraction": 1.5}, "center fraction"),
        ({"acceleration": 4, "kind": "radial"}, "mask kind"),
        ({"acceleration": 100, "center_fraction": 0.0}, "samples no k-space line"),
    ],
)
def test_bad_masks_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cartesian_mask(32, **kwargs)


@pytest.mark.parametrize(
    "width, fraction, expected",
    [
        # fastMRI's MaskFunc: num_low = round(W * f); pad = (W - num_low + 1) // 2;
        # columns pad .. pad + num_low - 1 are fully sampled (written out by hand here).
        (368, 0.08, range(170, 199)),  # num_low 29, pad 170
        (320, 0.04, range(154, 167)),  # num_low 13, pad 154
        (256, 0.08, range(118, 138)),  # num_low 20, pad 118
        (15, 0.2, range(6, 9)),  # num_low 3, pad 6
    ],
)
def test_centre_columns_follow_fastmri_exactly(width, fraction, expected):

    cols = center_columns(width, fraction)
    assert torch.nonzero(cols).flatten().tolist() == list(expected)
    mask = cartesian_mask(width, 4.0, fraction, "random", seed=3)
    assert all(mask.columns[i] == 1 for i in expected)
