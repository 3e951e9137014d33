"""Decay fits over the whole decaying range: geometric rate, R², curvature."""

from __future__ import annotations

import numpy as np

from untrained_cs.theory.spectrum import decay_profile


def test_a_geometric_spectrum_is_a_line_without_curvature() -> None:
    sigma = np.sqrt(3.0 * 0.8 ** np.arange(80.0))
    f = decay_profile(sigma.tolist())
    assert abs(f["rate"] - 0.8) < 1e-12 and f["r2_geometric"] > 1 - 1e-12
    assert f["count"] == 80 and abs(f["decades"] - 79 * np.log10(1 / 0.8)) < 1e-9
    assert abs(f["curvature_decades"]) < 1e-6  # rounding only


def test_faster_and_slower_than_geometric_have_the_sign_of_their_curvature() -> None:
    i = np.arange(100.0)
    faster = decay_profile(np.exp(-0.01 * i**1.5).tolist())
    slower = decay_profile((1.0 / (1.0 + i)).tolist())  # a power law
    assert faster["curvature"] < 0 and faster["curvature_t"] < -3
    assert faster["curvature_decades"] > 1
    assert slower["curvature"] > 0 and slower["r2_power"] > slower["r2_geometric"]


def test_the_fit_stops_at_the_numerical_floor() -> None:
    sigma = np.concatenate([0.5 ** np.arange(30.0), np.full(20, 1e-300)])
    f = decay_profile(sigma.tolist(), floor=1e-12)
    assert f["count"] == 20  # 0.25^19 > 1e-12 > 0.25^20
    assert abs(f["rate"] - 0.25) < 1e-12


def test_principal_angles_between_subspaces() -> None:
    from untrained_cs.theory.spectrum import largest_principal_angle

    eye = np.eye(6)
    assert largest_principal_angle(eye[:, :2], eye[:, [1, 0]]) < 1e-6
    assert abs(largest_principal_angle(eye[:, :2], eye[:, [0, 2]]) - 90) < 1e-6
    turned = np.stack([eye[:, 0], np.cos(0.3) * eye[:, 1] + np.sin(0.3) * eye[:, 2]], 1)
    assert abs(largest_principal_angle(eye[:, :2], turned) - np.degrees(0.3)) < 1e-6
