"""Batched fits: stopped members leave the computation; batches across different m."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from untrained_cs.fit import FitState, NoisyStop, continue_fit, fit, init_state, run_until
from untrained_cs.fit.selection import discrepancy_floor, holdout_entries
from untrained_cs.generators import DeepDecoder, TwoLayerGenerator
from untrained_cs.generators.factory import make_generator
from untrained_cs.io.images import load_image
from untrained_cs.methods import GeneratorFit
from untrained_cs.operators import GaussianOperator
from untrained_cs.operators.noise import add_noise
from untrained_cs.pipeline import run, run_batch, stack_dense
from untrained_cs.problems import CSMeasurement, ProblemSpec, SmoothSignal, build
from untrained_cs.sweeps import parse, plan
from untrained_cs.theory import smooth_signal

# Two-layer GD in float64: two members (few measurements) reach the loss floor early,
# the third runs to max_iters, alone in the batch for most of its iterations.
N, MS, SEEDS, OP_SEEDS = 32, [4, 6, 24], [1, 2, 3], [11, 12, 13]
OPTS = {"optimizer": "gd", "max_iters": 500, "check_every": 10, "window": 50, "tol": 1e-9,
        "loss_floor": 1e-8, "device": "cpu"}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These problems are tiny: a second thread only adds synchronisation (and on a busy
    machine, waiting for a core)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _signals() -> torch.Tensor:
    return torch.stack([smooth_signal(N, 3, seed=s).reshape(1, N) for s in SEEDS]).double()


def _batch_problem():
    op = GaussianOperator((1, N), max(MS), seed=OP_SEEDS, rows=MS, dtype=torch.float64)
    return TwoLayerGenerator((1, N), channels=32, seed=SEEDS).double(), op


def _forward_rows(gen: torch.nn.Module) -> list[int]:
    """Record the batch size of every forward pass (the fit's copies keep the hook)."""
    rows: list[int] = []
    gen.register_forward_hook(lambda _m, _i, out: rows.append(int(out.shape[0])))
    return rows


@pytest.fixture(scope="module")
def compacted():
    """The batched fit (members leave the computation) and its forward passes' sizes."""
    x = _signals()
    gen, op = _batch_problem()
    rows = _forward_rows(gen)
    return fit(gen, op, op(x), truth=x, **OPTS), rows


def test_a_member_does_not_depend_on_the_others_stopping(compacted):
    x = _signals()
    batched = compacted[0]
    assert batched.stop_reason == ["loss_floor", "loss_floor", "max_iters"]
    assert batched.history["compute_batch"][-1] == 1  # the last member ran alone
    for b in range(3):
        op_b = GaussianOperator((1, N), MS[b], seed=OP_SEEDS[b], dtype=torch.float64)
        g_b = TwoLayerGenerator((1, N), channels=32, seed=SEEDS[b]).double()
        single = fit(g_b, op_b, op_b(x[b : b + 1]), truth=x[b], **OPTS)
        k = len(single.history["iteration"])
        assert batched.stop_iteration[b] == single.stop_iteration[0]
        torch.testing.assert_close(batched.estimate[b : b + 1], single.estimate, atol=1e-12, rtol=0)
        for key in ("loss", "mse"):
            np.testing.assert_allclose(batched.history[key][:k, b], single.history[key][:, 0],
                                       rtol=1e-10, atol=1e-14)  # fmt: skip
        # after its stop a member's log repeats its final values
        assert np.all(batched.history["loss"][k:, b] == batched.history["loss"][k - 1, b])


def test_compaction_cuts_the_computed_members_and_changes_no_result(compacted):
    x = _signals()
    gen, op = _batch_problem()
    rows = {True: compacted[1], False: _forward_rows(gen)}
    on, off = compacted[0], fit(gen, op, op(x), truth=x, compact=False, **OPTS)
    assert on.stop_iteration == off.stop_iteration and on.stop_reason == off.stop_reason
    torch.testing.assert_close(on.estimate, off.estimate, atol=1e-12, rtol=0)
    assert set(off.history["compute_batch"]) == {3}
    computed = on.history["compute_batch"]
    assert computed[0] == 3 and computed[-1] == 1 and np.all(np.diff(computed) <= 0)
    # the iterations' own passes: 3 rows until the first stops, then 2 and 1 (+ the end)
    assert sum(rows[True]) < 0.8 * sum(rows[False])
    assert rows[True].count(1) > 140 and rows[False].count(1) == 0


def _noisy_images():
    imgs = torch.stack([load_image(n, 16) for n in ("shepp_logan", "camera", "moon")])
    op = GaussianOperator((1, 16, 16), 96, seed=[5, 6, 7])
    return imgs, op, add_noise(op(imgs), 0.05, 9)


def test_a_compacted_holdout_fit_resumes_bit_identically(tmp_path: Path):
    imgs, op, y = _noisy_images()
    opts = {"lr": 0.01, "max_iters": 600, "check_every": 20, "window": 40, "device": "cpu",
            "stop": NoisyStop("holdout", fraction=0.2, seed=4, patience=3)}  # fmt: skip

    def build_gen() -> DeepDecoder:  # per-member fixed inputs: split with the members
        return DeepDecoder((1, 16, 16), channels=8, layers=3, seed=[0, 1, 2])

    ref = fit(build_gen(), op, y, truth=imgs, **opts)
    assert sorted(set(ref.history["compute_batch"])) == [1, 2, 3]
    saved: list[Path] = []
    state = init_state(build_gen(), op, y, truth=imgs, **opts)
    run_until(state, on_check=lambda s: saved.append(s.save(tmp_path / f"c{len(saved)}.pt")))
    paused = init_state(build_gen(), op, y, truth=imgs, **opts)
    assert run_until(paused, max_iteration=137) == "paused" and paused.work.size == 2
    saved.append(paused.save(tmp_path / "paused.pt"))
    members = []
    for path in (saved[1], saved[6], saved[13], saved[-1]):
        payload = torch.load(path, weights_only=True)
        assert payload["generator"]["weights.0"].shape[0] == 3  # the file keeps every member
        members.append(len(payload["members"]))
        got = continue_fit(FitState.load(path, build_gen(), op, y, truth=imgs))
        assert sorted(got.history) == sorted(ref.history)
        for key, value in ref.history.items():
            assert np.array_equal(value, got.history[key]), (path.name, key)
        assert torch.equal(ref.estimate, got.estimate), path.name
        assert got.selected_iteration == ref.selected_iteration
        assert got.stop_iteration == ref.stop_iteration
    assert min(members) == 1 and max(members) == 3


def test_divergence_is_undone_in_a_compacted_batch_and_resumes(tmp_path: Path):
    n = 128
    x = torch.cat([torch.zeros(1, 1, n), smooth_signal(n, 5, seed=0).float().reshape(1, 1, n),
                   smooth_signal(n, 5, seed=1).float().reshape(1, 1, n)])  # fmt: skip
    op = GaussianOperator((1, n), 32, seed=[100, 101, 102])
    opts = {"optimizer": "gd", "lr": 1e4, "max_iters": 400, "check_every": 10, "window": 20}

    def build_gen() -> TwoLayerGenerator:
        return TwoLayerGenerator((1, n), channels=32, kernel=("triangular", 8.0), seed=[0, 1, 2])

    off = fit(build_gen(), op, op(x), truth=x, device="cpu", compact=False, **opts)
    saved: list[Path] = []
    state = init_state(build_gen(), op, op(x), truth=x, device="cpu", **opts)
    run_until(state, on_check=lambda s: saved.append(s.save(tmp_path / f"c{len(saved)}.pt")))
    # member 0 (y = 0) stops at once; the others diverge in the compacted batch
    assert state.stop.stop_iteration[0] == 0 and state.restarts.tolist()[1:] == [4, 4]
    assert np.array_equal(np.array(state.log["lr"]), off.history["lr"])
    ref = continue_fit(state)
    torch.testing.assert_close(ref.estimate, off.estimate, atol=1e-6, rtol=1e-5)
    for path in saved[1:4]:
        got = continue_fit(FitState.load(path, build_gen(), op, op(x), truth=x))
        assert torch.equal(ref.estimate, got.estimate)
        assert np.array_equal(ref.history["loss"], got.history["loss"])


def test_generator_select_and_put_move_members_with_their_inputs():
    gen = make_generator("dip", (1, 33, 33), seed=[5, 6, 7], signed=True)  # Signed(DIP)
    with torch.no_grad():
        full = gen()
        sub = gen.select([2, 0])
        assert sub.batch == 2 and sub.seeds == [gen.seeds[2], gen.seeds[0]]
        torch.testing.assert_close(sub(), full[[2, 0]], atol=1e-5, rtol=1e-5)
        for p in sub.parameters():
            p.add_(1.0)
        before = [p.clone() for p in gen.parameters()]
        gen.put([2, 0], sub)
    for p, old in zip(gen.parameters(), before, strict=True):
        assert torch.equal(p[1], old[1]) and torch.equal(p[[2, 0]], old[[2, 0]] + 1.0)


def _specs(ms, noise=0.0):
    return [ProblemSpec(SmoothSignal(32, 3), CSMeasurement(m=m, noise_std=noise), seed=10 + i)
            for i, m in enumerate(ms)]  # fmt: skip


def test_a_batch_of_different_m_equals_single_runs():
    problems = [build(s) for s in _specs((6, 12, 20))]
    method = GeneratorFit("two-layer", channels=32, optimizer="gd", max_iters=300, stop="converge")
    batched = run_batch(problems, method, device="cpu")
    for rec, problem in zip(batched, problems, strict=True):
        single = run(problem, method, device="cpu")
        assert rec.key == single.key and rec.metrics["m"] == problem.m
        assert rec.metrics["iterations"] == single.metrics["iterations"]
        assert rec.metrics["rel_error"] == pytest.approx(single.metrics["rel_error"], rel=1e-5)


def test_noisy_stops_count_each_members_own_rows():
    problems = [build(s) for s in _specs((6, 12, 20), noise=0.05)]
    op, y = stack_dense(problems)
    assert op.m == 20 and y.shape == (3, 20) and torch.equal(y[0, 6:], torch.zeros(14))
    sigma = 0.05
    np.testing.assert_allclose(
        discrepancy_floor(op, y, sigma), 0.5 * np.array([6, 12, 20]) * sigma**2
    )
    seeds = (3, 4, 5)
    held = holdout_entries(op, y, 0.25, seeds)
    for b, p in enumerate(problems):
        assert not bool(held[b, p.m :].any())  # padded rows are never held out
        alone = holdout_entries(p.operator, p.y, 0.25, seeds[b])
        assert torch.equal(held[b, : p.m], alone[0])
    method = GeneratorFit("two-layer", channels=32, optimizer="gd", max_iters=400, stop="holdout",
                          holdout_fraction=0.25)  # fmt: skip
    batched = run_batch(problems, method, device="cpu")
    for rec, problem in zip(batched, problems, strict=True):
        single = run(problem, method, device="cpu")
        assert rec.metrics["selected_iteration"] == single.metrics["selected_iteration"]
        assert rec.metrics["rel_error"] == pytest.approx(single.metrics["rel_error"], rel=1e-4)


def test_plan_packs_fits_of_different_m_into_tasks_cut_by_m_largest_first(monkeypatch):
    base = {"problem": {"signal": {"kind": "smooth", "n": 32, "p": 3},
                        "measurement": {"kind": "cs", "operator": "gaussian", "m": 12}},
            "method": {"kind": "generator", "generator": "two-layer", "max_iters": 60}}  # fmt: skip
    grid = {"seed": [0, 1, 2], "measurement.m": [20, 6, 12]}
    tasks = plan(parse({"base": base, "grid": grid, "batch": 4}).fits(), 4)
    assert [[f.problem.measurement.m for f in t.fits] for t in tasks] == [
        [12, 6, 6, 6],
        [20, 20, 12, 12],
        [20],
    ]
    assert [t.cap for t in tasks] == [None] * 3  # one batch each: nothing queues
    # tasks of 9: one task, 4 at once, the rest queued; for 2 slots, two tasks per slot
    # of one batch at least (the 9 fits give three: 4, 4 and 1)
    (task,) = plan(parse({"base": base, "grid": grid, "batch": 4}).fits(), 4, 9)
    assert [f.problem.measurement.m for f in task.fits] == [20] * 3 + [12] * 3 + [6] * 3
    assert task.cap == 4
    tasks = plan(parse({"base": base, "grid": grid, "batch": 4}).fits(), 4, 9, slots=2)
    assert [([f.problem.measurement.m for f in t.fits], t.cap) for t in tasks] == [
        ([12, 6, 6, 6], None),
        ([20, 20, 12, 12], None),
        ([20], None),
    ]
    # room for five matrices of the largest m (20 × 32 floats): tasks of five
    monkeypatch.setattr("untrained_cs.sweeps.run.TASK_MATRIX_BYTES", 5 * 4 * 20 * 32)
    tasks = plan(parse({"base": base, "grid": grid, "batch": 4}).fits(), 4, 9)
    assert [len(t.fits) for t in tasks] == [5, 4]
    # noisy: the hold-out rule computes every member at once, so no queue, tasks of a batch
    noisy = {**base, "problem": {**base["problem"], "measurement": {
        **base["problem"]["measurement"], "noise_std": 0.01}}}  # fmt: skip
    tasks = plan(parse({"base": noisy, "grid": grid, "batch": 4}).fits(), 4, 9)
    assert [(len(t.fits), t.cap) for t in tasks] == [(4, None), (4, None), (1, None)]
    base["problem"]["measurement"]["operator"] = "structured"  # not a dense matrix: per m
    tasks = plan(parse({"base": base, "grid": grid, "batch": 4}).fits(), 4, 9)
    assert sorted(len(t.fits) for t in tasks) == [3, 3, 3]
    assert all(len({f.problem.measurement.m for f in t.fits}) == 1 for t in tasks)


def test_the_planner_sizes_a_task_by_its_matrices_as_the_registry_draws_them():
    from untrained_cs.sweeps.run import _matrix_bytes

    base = {"problem": {"signal": {"kind": "smooth", "n": 30, "p": 3},
                        "measurement": {"kind": "cs", "operator": "gaussian", "ratio": 0.15}},
            "method": {"kind": "generator", "generator": "two-layer", "max_iters": 60}}  # fmt: skip
    (fit,) = parse({"base": base, "batch": 1}).fits()
    assert _matrix_bytes(fit) == 4 * 4 * 30  # m = round(0.15 · 30) = 4 rows of float32
    base["problem"]["measurement"]["operator"] = "gaussian-bf16"
    (fit,) = parse({"base": base, "batch": 1}).fits()
    assert _matrix_bytes(fit) == 2 * 4 * 30
