"""Trigonometric basis (eq 10): orthonormality, the paper's numbering, smooth signals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from untrained_cs.theory.basis import (
    energy_spectrum,
    orthonormality_error,
    paper_functions,
    paper_index_column,
    project,
    smooth_signal,
    trig_basis,
)


@pytest.mark.parametrize("n", [1, 2, 7, 16, 300, 301])
def test_basis_orthonormal_even_and_odd(n: int) -> None:
    assert orthonormality_error(trig_basis(n)) < 1e-10


@pytest.mark.parametrize("n", [12, 13])
def test_paper_numbering_matches_eq10(n: int) -> None:
    j = torch.arange(n, dtype=torch.float64)
    funcs = paper_functions(n, list(range(n)))
    for i in range(n):
        if i == 0:
            want = torch.full((n,), 1 / math.sqrt(n), dtype=torch.float64)
        elif 2 * i < n:
            want = math.sqrt(2 / n) * torch.cos(2 * math.pi * j * i / n)
        elif 2 * i == n:
            want = (-1.0) ** j / math.sqrt(n)
        else:
            want = math.sqrt(2 / n) * torch.sin(2 * math.pi * j * i / n)
        assert torch.allclose(funcs[:, i], want, atol=1e-12), i
    cols = {paper_index_column(i, n)[0] for i in range(n)}
    assert cols == set(range(n))  # a permutation of the columns


def test_paper_index_out_of_range() -> None:
    with pytest.raises(ValueError, match="0 <= i < n"):
        paper_index_column(300, 300)


def test_smooth_signal_lives_on_first_p_and_projects() -> None:
    x = smooth_signal(64, 5, seed=3)
    energy = energy_spectrum(x)
    assert abs(float(x.norm()) - 1) < 1e-12
    assert float(energy[5:].sum()) < 1e-24
    assert torch.allclose(project(x, 5), x, atol=1e-12)
    assert torch.equal(x, smooth_signal(64, 5, seed=3))


@pytest.mark.parametrize("n", [1, 2, 7, 8, 33])
def test_trig_basis_first_columns_only_and_explicit_formula(n):
    """``columns=p`` gives exactly the first p columns; each column is eq (10)'s function."""
    full = trig_basis(n)
    j = torch.arange(n, dtype=torch.float64)
    for c in range(n):
        f = (c + 1) // 2
        if c == 0 or 2 * f == n:
            ref = torch.cos(math.pi * 2 * f * j / n) / math.sqrt(n)
        elif c % 2:
            ref = math.sqrt(2 / n) * torch.cos(2 * math.pi * f * j / n)
        else:
            ref = math.sqrt(2 / n) * torch.sin(2 * math.pi * f * j / n)
        torch.testing.assert_close(full[:, c], ref, atol=1e-12, rtol=0)
    for p in {1, max(1, n // 2), n}:
        assert torch.equal(trig_basis(n, columns=p), full[:, :p])
    with pytest.raises(ValueError, match="columns"):
        trig_basis(n, columns=n + 1)


def test_figure2_shows_the_constant_then_frequencies_1_3_10():
    """The paper's "1st, 2nd, 6th and 21st" count singular vectors: constant, then pairs."""
    from untrained_cs.experiments import figure2

    data = figure2.data(figure2.Figure2Settings(n=300, functions=(1, 2, 6, 21), p=4))
    assert data["frequencies"] == [0, 1, 3, 10]
    for f, freq in zip(data["functions"], data["frequencies"], strict=True):
        spectrum = np.abs(np.fft.rfft(np.asarray(f)))
        assert int(np.argmax(spectrum)) == freq  # the dominant DFT bin is that frequency
    assert np.allclose(data["functions"][0], 1 / np.sqrt(300))


def test_figure2_text_setting_reads_the_caption_with_eq10s_numbering():
    """Code (the default): singular-vector order; text: eq (10)'s w_1, w_2, w_6, w_21."""
    from untrained_cs.experiments import figure2
    from untrained_cs.experiments.claims import FAILS, HOLDS
    from untrained_cs.experiments.registry import experiment

    code = experiment("fig2").settings("paper")
    text = experiment("fig2").settings("paper", {"setting": "text"})
    assert code.setting == "code" and code.numbering == "singular"
    assert text.numbering == "eq10" and text.functions == code.functions
    data = figure2.data(text)
    assert data["frequencies"] == [1, 2, 6, 21] == data["eq10_indices"]
    assert data["setting"] == "text" and data["numbering"] == "eq10"
    n = 300
    j = np.arange(n)
    for f, i in zip(data["functions"], (1, 2, 6, 21), strict=True):
        assert np.allclose(f, np.sqrt(2 / n) * np.cos(2 * np.pi * j * i / n), atol=1e-12)
    # the caption read with eq (10) does not give the published figure's functions
    assert [c.verdict for c in figure2.claims(data)] == [HOLDS, FAILS]
    assert [c.verdict for c in figure2.claims(figure2.data(code))] == [HOLDS, HOLDS]
    # eq (10)'s sines come with their sign: w_i = sin(2π j i / n) for i > n/2
    w = figure2.data(figure2.Figure2Settings(n=8, functions=(7,), numbering="eq10", p=1))
    assert np.allclose(w["functions"][0], np.sqrt(2 / 8) * np.sin(2 * np.pi * np.arange(8) * 7 / 8))
    with pytest.raises(ValueError, match=r"functions \(eq10\) must lie in \[0, 7\]"):
        figure2.Figure2Settings(n=8, functions=(8,), numbering="eq10", p=1)
    with pytest.raises(ValueError, match=r"functions \(singular\) must lie in \[1, 8\]"):
        figure2.Figure2Settings(n=8, functions=(0,), p=1)
