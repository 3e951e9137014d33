"""Figure 4 in the paper's setting: the notebook's network, the alignment measure, the
experiment's data / claims / plot / cost at the smoke scale."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch

from untrained_cs.experiments import figure4
from untrained_cs.experiments.claims import FAILS, HOLDS
from untrained_cs.experiments.figure4_notebook import (
    noisy_step,
    notebook_fit,
    notebook_matrix,
    true_jacobian,
)
from untrained_cs.generators import Figure4Decoder
from untrained_cs.theory.basis import trig_basis
from untrained_cs.theory.jacobian import summation_matrix
from untrained_cs.theory.trig_alignment import (
    constant_leak,
    decay_index,
    left_singular,
    low_frequency_share,
    trig_alignment,
)

PAPER = figure4.SETTINGS["paper"]


@pytest.fixture(autouse=True)
def one_thread():
    """These matrices are small: one thread avoids the stalls two threads' LAPACK calls
    showed on a busy two-core machine (conftest restores the count after each test)."""
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def smoke() -> dict:
    torch.set_num_threads(1)
    return figure4.data(figure4.SETTINGS["smoke"], seed=0)


def test_paper_network_sizes_v_and_init_without_fitting() -> None:
    net = Figure4Decoder(PAPER.n, PAPER.channels, PAPER.layers, seed=0)
    assert (PAPER.n, PAPER.channels, PAPER.layers) == (512, 64, 4)
    assert net().shape == (1, 1, 512)
    assert net.input.shape == (1, 64, 32) and 0 <= net.input.min() and net.input.max() < 1
    assert net.mixing_count() == 4 * 64 * 64
    want_v = torch.tensor([1.0] * 32 + [-1.0] * 32) / 8
    torch.testing.assert_close(net.v, want_v)
    std = torch.cat([w.detach().reshape(-1) for w in net.weights]).std()
    assert abs(float(std) - math.sqrt(2 / 128)) < 0.01  # Xavier normal for 64 -> 64
    assert PAPER.snapshots == (1, 75, 3500) and PAPER.lr == 0.01
    assert figure4.SETTINGS["cpu"] == PAPER


def test_final_batch_norm_puts_the_constant_out_of_reach() -> None:
    net = Figure4Decoder(128, 16, 4, seed=1)
    jac = true_jacobian(net)
    assert jac.shape == (128, 4 * 16 * 16)
    ones = torch.ones(128)
    # J^T 1 = 0 up to float32 rounding, relative to the Jacobian's size
    assert float((jac.T @ ones).norm() / (ones.norm() * jac.norm())) < 1e-5
    small = Figure4Decoder(32, 4, 2, seed=2).double()
    j64 = true_jacobian(small)
    assert constant_leak(j64, float(torch.linalg.matrix_norm(j64, 2))) < 1e-12


def test_true_jacobian_is_the_mixings_rows_and_the_notebook_matrix_is_their_running_sum():
    net = Figure4Decoder(32, 4, 2, seed=3).double()
    jac = true_jacobian(net)
    assert jac.shape == (32, net.mixing_count())
    out = net().reshape(-1)
    for j in (0, 13, 31):
        grads = torch.autograd.grad(out[j], list(net.weights), retain_graph=True)
        torch.testing.assert_close(jac[j], torch.cat([g.reshape(-1) for g in grads]))
    g = {k: torch.randn_like(p) for k, p in net.named_parameters() if k in net.mixing_names()}
    flat_g = torch.cat([g[k].reshape(-1) for k in net.mixing_names()])
    torch.testing.assert_close(notebook_matrix(net, g), torch.cumsum(jac, 0) + flat_g)
    assert all(p.requires_grad for p in net.parameters())  # the norms are trainable again


def test_snapshot_gets_the_loss_gradient_of_its_step() -> None:
    _, y = noisy_step(32, 0.4, 0.5, seed=1)
    fresh = Figure4Decoder(32, 4, 2, seed=4)
    loss = torch.mean((fresh() - y) ** 2)
    want = torch.autograd.grad(loss, list(fresh.weights))
    seen = {}
    losses, found = notebook_fit(Figure4Decoder(32, 4, 2, seed=4), y, 3, 0.01, (1,),
                             lambda t, net, g: seen.update(g) or {"t": t})  # fmt: skip
    assert found == {1: {"t": 1}} and len(losses) == 3
    assert losses[0] == pytest.approx(float(loss.detach()))
    for i, w in enumerate(want):
        torch.testing.assert_close(seen[f"weights.{i}"], w)


def test_alignment_is_one_for_trig_vectors_and_near_r_over_n_for_random() -> None:
    n, ranks = 128, (1, 5, 11, 21)
    gen = torch.Generator().manual_seed(0)
    right, _ = torch.linalg.qr(torch.randn(256, n, generator=gen, dtype=torch.float64))
    sigma = torch.linspace(10.0, 0.1, n, dtype=torch.float64)
    exact = trig_basis(n) @ torch.diag(sigma) @ right.T
    _, vectors = left_singular(exact, 21)
    for r, score in trig_alignment(vectors, ranks).items():
        assert score == pytest.approx(1.0, abs=1e-9), r
    _, noise = left_singular(torch.randn(n, 256, generator=gen, dtype=torch.float64), 21)
    scores = trig_alignment(noise, ranks)
    for r in (11, 21):
        assert abs(scores[r] - r / n) < 0.35 * r / n, (r, scores[r])


def test_decay_index_low_frequency_share_and_the_bare_running_sum() -> None:
    assert decay_index([1.0, 0.5, 0.02, 0.009, 0.001]) == 4
    assert decay_index([1.0, 0.5, 0.2]) == 4  # never below 1 %
    basis = trig_basis(64)
    assert low_frequency_share(basis[:, [0, 7, 8, 30]], 8) == pytest.approx([1, 1, 0, 0])
    # the running sum alone (no network) already has near-trig leading vectors, σ_k ∝ 1/(2k-1)
    sigma, vectors = left_singular(summation_matrix(256), 21)
    assert min(trig_alignment(vectors, (1, 5, 11, 21)).values()) > 0.8
    assert float(sigma[1] / sigma[0]) == pytest.approx(1 / 3, rel=1e-3)


def test_smoke_data_has_what_claims_and_plot_need(smoke, tmp_path) -> None:
    s = figure4.SETTINGS["smoke"]
    json.dumps(smoke)  # JSON safe
    assert smoke["iterations"] == list(s.snapshots) and len(smoke["loss"]) == s.iterations
    assert smoke["parameters"] == s.layers * s.channels**2
    for key in figure4.MATRICES:
        assert 0 <= smoke["change_top"][key] and 0 <= smoke["change_shape"][key]
        for snap in smoke["matrices"][key]:
            assert len(snap["sigma"]) == s.top and len(snap["spectrum"]) == s.n
            assert snap["ranks"] == list(s.ranks) and len(snap["alignment"]) == len(s.ranks)
            assert all(0 <= a <= 1 + 1e-9 for a in snap["alignment"])
            assert len(snap["low_frequency_share"]) == max(s.ranks)
            assert len(snap["vectors"]) == s.keep and len(snap["vectors"][0]) == s.n
            assert 1 <= snap["decay_index"] <= s.n + 1
            assert 4 <= snap["decay_fit"]["count"] <= s.n and snap["decay_fit"]["decades"] > 1
    leaks = [snap["constant_leak"] for snap in smoke["matrices"]["true"]]
    assert max(leaks) < 1e-5  # the true Jacobian cannot make the constant
    assert min(snap["constant_leak"] for snap in smoke["matrices"]["running_sum"]) > 0.3
    for key in figure4.MATRICES:
        angles = smoke["subspace_angles"][key]
        assert list(angles) == ["5", "10", "20"]
        assert all(len(a) == len(s.snapshots) - 1 for a in angles.values())
        assert all(0 <= x <= 90 + 1e-9 for a in angles.values() for x in a)
        assert all("basis" not in snap for snap in smoke["matrices"][key])
    rows = figure4.claims(smoke)
    assert len(rows) == 20
    assert sum("Adam restarted per snapshot (the notebook)" in r.claim for r in rows) == 10
    assert sum("Adam continuous" in r.claim for r in rows) == 10
    assert smoke["restarted"]["iterations"] == list(s.snapshots)
    assert len(smoke["restarted"]["loss"]) == s.iterations
    assert all(r.verdict in (HOLDS, FAILS) and r.measured is not None and r.reason for r in rows)
    names = figure4.plot(smoke, tmp_path)
    assert len(names) == 4 and "figure4_optimisers.png" in names
    assert all((tmp_path / f).read_bytes()[:4] == b"\x89PNG" for f in names)


def test_claim_verdicts_follow_the_measurements(smoke) -> None:
    good, bad = copy.deepcopy(smoke), copy.deepcopy(smoke)
    for key in figure4.MATRICES:
        good["change_top"][key], bad["change_top"][key] = 0.05, 0.9
        good["subspace_angles"][key] = {"5": [2.0, 3.0], "10": [4.0, 5.0]}
        bad["subspace_angles"][key] = {"5": [2.0, 80.0], "10": [4.0, 5.0]}
        for snap in good["matrices"][key]:
            snap["alignment"], snap["decay_index"] = [0.95] * len(snap["ranks"]), 2
            snap["decay_fit"].update(curvature=-1e-3, curvature_t=-10.0, curvature_decades=1.0)
        for snap in bad["matrices"][key]:
            snap["alignment"], snap["decay_index"] = [0.2] * len(snap["ranks"]), smoke["n"]
            snap["decay_fit"].update(curvature=1e-3, curvature_t=10.0, curvature_decades=-1.0)
    for run in (good, bad):  # the restarted run's rows read the same edited measures
        for field in ("change_top", "subspace_angles", "matrices"):
            run["restarted"][field] = run[field]
    assert [r.verdict for r in figure4.claims(good)] == [HOLDS] * 20
    assert [r.verdict for r in figure4.claims(bad)] == [FAILS] * 20


def test_cost_times_a_probe() -> None:
    c = figure4.cost(figure4.SETTINGS["smoke"])
    assert 0 < c.seconds < 60 and c.bytes > 0 and "timed" in c.basis


def test_restarting_adam_per_snapshot_changes_the_fit_only_after_the_first_snapshot() -> None:
    _, y = noisy_step(32, 0.4, 0.5, seed=1)
    runs = []
    for restart in (False, True):
        net = Figure4Decoder(32, 4, 2, seed=2)
        losses, found = notebook_fit(net, y, 12, 0.01, (3, 7), lambda t, n, g: {"t": t}, restart)
        runs.append(losses)
        assert sorted(found) == [3, 7]
    continuous, restarted = runs
    assert continuous[:4] == restarted[:4]  # steps 1..4 see the same Adam state
    assert continuous[4] != restarted[4]  # step 5 follows a fresh Adam's first step


def test_setting_text_fits_by_plain_gradient_descent_in_one_run(tmp_path) -> None:
    """The caption's 'gradient descent' (text) against the notebook's Adam (code)."""
    from untrained_cs.experiments.registry import experiment

    assert PAPER.setting == "code" and PAPER.optimizer == "adam"
    text = experiment("fig4").settings("smoke", {"setting": "text"})
    assert text.optimizer == "gd"
    data = figure4.data(text, seed=0)
    assert data["setting"] == "text" and data["optimiser"] == "gd" and "restarted" not in data
    assert data["loss"][-1] < data["loss"][0]  # the notebook's step fits under plain GD too
    rows = figure4.claims(data)
    assert len(rows) == 10 and all("plain gradient descent (the caption)" in r.claim for r in rows)
    assert len(figure4.plot(data, tmp_path)) == 3  # no second run to set beside it


def test_plain_gradient_descent_is_sgd_without_momentum() -> None:
    _, y = noisy_step(32, 0.4, 0.5, seed=1)
    runs = []
    for restart in (False, True):
        net = Figure4Decoder(32, 4, 2, seed=2)
        ref = Figure4Decoder(32, 4, 2, seed=2)
        losses, _ = notebook_fit(net, y, 5, 0.1, (2,), lambda t, n, g: {}, restart, "gd")
        opt = torch.optim.SGD(ref.parameters(), lr=0.1)
        for _ in range(5):
            opt.zero_grad()
            torch.mean((ref() - y) ** 2).backward()
            opt.step()
        for a, b in zip(net.parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(a, b)
        runs.append(losses)
    assert runs[0] == runs[1]  # a restarted gradient descent is the same run
    with pytest.raises(ValueError, match="optimizer must be adam or gd"):
        notebook_fit(Figure4Decoder(32, 4, 2), y, 1, 0.1, (), lambda t, n, g: {}, False, "sgd")
