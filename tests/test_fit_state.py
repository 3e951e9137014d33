"""Fit state: save/load/continue is bit-identical, hooks stop at clean points, no mutation.

Run as a script (``python tests/test_fit_state.py DTYPE OUT STATE...``) it loads the saved
states onto freshly built modules, finishes them and saves the results: the fresh-process
half of the resume tests.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from untrained_cs.fit import (
    FitInterrupted,
    FitOptions,
    FitResult,
    FitState,
    Rates,
    Schedule,
    StopRule,
    StopState,
    continue_fit,
    fit,
    init_state,
    run_until,
)
from untrained_cs.fit.inputs import on_device
from untrained_cs.generators import DeepDecoder, TwoLayerGenerator
from untrained_cs.io.images import load_image
from untrained_cs.operators import GaussianOperator, make_operator
from untrained_cs.theory import smooth_signal

# lr cuts at iterations 200, 250, 300 (patience 1, threshold 0.5), so resumes cross them
SETTINGS = {
    "max_iters": 300,
    "check_every": 50,
    "window": 100,
    "patience": 1,
    "threshold": 0.5,
    "device": "cpu",
}


def _problem(dtype: torch.dtype = torch.float32):
    """A tiny deep-decoder problem (16×16, 8 channels, 3 layers, Gaussian m = n/4)."""
    x = load_image("shepp_logan", 16).to(dtype)
    op = make_operator("gaussian", (1, 16, 16), 0.25, seed=3).to(dtype)
    g = DeepDecoder((1, 16, 16), channels=8, layers=3, seed=0).to(dtype)
    return g, op, op(x[None]), x


def _state(dtype: torch.dtype = torch.float32) -> FitState:
    g, op, y, x = _problem(dtype)
    return init_state(g, op, y, truth=x, **SETTINGS)


def _reference(dtype: torch.dtype = torch.float32) -> FitResult:
    g, op, y, x = _problem(dtype)
    return fit(g, op, y, truth=x, **SETTINGS)


def _assert_same(ref: FitResult, got: FitResult) -> None:
    assert sorted(ref.history) == sorted(got.history)
    for key, value in ref.history.items():
        assert np.array_equal(value, got.history[key]), key
    assert torch.equal(ref.estimate, got.estimate)
    assert ref.stop_reason == got.stop_reason
    assert ref.stop_iteration == got.stop_iteration


def _resume_main(argv: list[str]) -> None:
    """Fresh-process half: load each state file, finish it, save history and estimate."""
    dtype, out, paths = getattr(torch, argv[0]), argv[1], argv[2:]
    results = {}
    for path in paths:
        g, op, y, x = _problem(dtype)
        r = continue_fit(FitState.load(path, g, op, y, truth=x))
        results[path] = {
            "history": {k: torch.from_numpy(v) for k, v in r.history.items()},
            "estimate": r.estimate,
            "stop_reason": r.stop_reason,
            "stop_iteration": r.stop_iteration,
        }
    torch.save(results, out)


@pytest.mark.slow  # end to end: scripts/test.sh runs it after the fast suite
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_resume_in_a_fresh_process_is_bit_identical(tmp_path: Path, dtype: torch.dtype) -> None:
    ref = _reference(dtype)
    paths = []
    for k in (137, 150):  # off and on a check boundary
        state = _state(dtype)
        assert run_until(state, max_iteration=k) == "paused"
        assert state.iteration == k
        paths.append(str(state.save(tmp_path / f"state_{k}.pt")))
    out = tmp_path / "resumed.pt"
    name = str(dtype).removeprefix("torch.")
    cmd = [sys.executable, str(Path(__file__).resolve()), name, str(out), *paths]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    resumed = torch.load(out, weights_only=True)
    for path in paths:
        got = resumed[path]
        assert sorted(got["history"]) == sorted(ref.history)
        for key, value in ref.history.items():
            assert np.array_equal(value, got["history"][key].numpy()), (path, key)
        assert torch.equal(ref.estimate, got["estimate"]), path
        assert got["stop_reason"] == ref.stop_reason
        assert got["stop_iteration"] == ref.stop_iteration
    assert ref.history["lr"][-1, 0] < ref.history["lr"][0, 0]  # the resumes crossed lr cuts


def test_in_process_save_load_continue(tmp_path: Path) -> None:
    ref = _reference()
    state = _state()
    assert run_until(state, max_iteration=137) == "paused"
    path = state.save(tmp_path / "state.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]  # no temp file left
    payload = torch.load(path, weights_only=True)
    assert payload["iteration"] == 137
    g, op, y, x = _problem()
    loaded = FitState.load(path, g, op, y, truth=x)
    assert loaded.iteration == 137 and loaded.generator is g
    assert run_until(loaded, max_iteration=200) == "paused"  # pause twice
    _assert_same(ref, continue_fit(loaded))


def _as_format_1(payload: dict) -> dict:
    """A payload in the layout of format 1: the schedule's fields inside the rule, the
    initial rates and plateau counts in the stop's section, the base rates under "lr"."""
    rates = payload["rates"]
    settings = dict(payload["settings"])
    settings["rule"] = {**settings["rule"], **settings.pop("schedule")}
    stop = {**payload["stop"], "lr0": rates["lr0"], "bad_checks": rates["bad_checks"]}
    old = {k: v for k, v in payload.items() if k != "rates"}
    old.update(format=1, settings=settings, stop=stop, lr=rates["base"])
    return old


def test_a_format_1_file_loads_and_resumes_bit_identically(tmp_path: Path) -> None:
    ref = _reference()
    state = _state()
    run_until(state, max_iteration=220)  # after the first lr cuts
    payload = torch.load(state.save(tmp_path / "new.pt"), weights_only=True)
    assert payload["format"] == 2 and payload["settings"]["schedule"]["patience"] == 1
    torch.save(_as_format_1(payload), tmp_path / "old.pt")
    g, op, y, x = _problem()
    loaded = FitState.load(tmp_path / "old.pt", g, op, y, truth=x)
    assert loaded.settings == state.settings
    assert np.array_equal(loaded.rates.base, state.rates.base)
    assert np.array_equal(loaded.rates.bad_checks, state.rates.bad_checks)
    _assert_same(ref, continue_fit(loaded))


def test_checkpoints_from_on_check_resume_bit_identically(tmp_path: Path) -> None:
    ref = _reference()
    saved: list[Path] = []

    def checkpoint(state: FitState) -> None:
        saved.append(state.save(tmp_path / f"check_{len(saved)}.pt"))

    state = _state()
    assert run_until(state, on_check=checkpoint) == "finished"
    assert len(saved) == 7  # iterations 0, 50, …, 300
    for path in (saved[1], saved[4]):  # after the checks at 0 and 200
        g, op, y, x = _problem()
        _assert_same(ref, continue_fit(FitState.load(path, g, op, y, truth=x)))


def test_resume_after_divergence_restores_is_bit_identical(tmp_path: Path) -> None:
    n = 128
    x = smooth_signal(n, 5, seed=0).float().reshape(1, n)

    def build():
        op = GaussianOperator((1, n), 32, seed=100)
        g = TwoLayerGenerator((1, n), channels=32, kernel=("triangular", 8.0))
        return g, op, op(x[None])

    opts = {"optimizer": "gd", "lr": 1e4, "max_iters": 400, "check_every": 10, "window": 20}
    ref = fit(*build(), truth=x, device="cpu", **opts)
    saved: list[Path] = []
    state = init_state(*build(), truth=x, device="cpu", **opts)
    run_until(state, on_check=lambda s: saved.append(s.save(tmp_path / f"c{len(saved)}.pt")))
    assert int(state.restarts[0]) >= 2 and len(saved) > int(state.restarts[0])
    for path in saved:
        loaded = FitState.load(path, *build(), truth=x)
        _assert_same(ref, continue_fit(loaded))


def test_should_stop_interrupts_at_iteration_k_and_resumes() -> None:
    ref = _reference()
    polls = []

    def should_stop() -> bool:
        polls.append(1)
        return len(polls) > 137  # the 138th poll comes before iteration 137

    state = _state()
    assert run_until(state, should_stop=should_stop) == "interrupted"
    assert state.iteration == 137
    with pytest.raises(FitInterrupted) as info:
        continue_fit(state, should_stop=lambda: True)
    assert info.value.state is state and state.iteration == 137
    _assert_same(ref, continue_fit(state))


def test_load_rejects_a_mismatched_problem(tmp_path: Path) -> None:
    state = _state()
    run_until(state, max_iteration=3)
    path = state.save(tmp_path / "s.pt")
    g, op, y, x = _problem(torch.float64)
    with pytest.raises(ValueError, match="saved with float32 parameters but DeepDecoder"):
        FitState.load(path, g, op, y, truth=x)
    g, op, y, x = _problem()
    with pytest.raises(ValueError, match="with ground truth"):
        FitState.load(path, g, op, y)
    with pytest.raises(ValueError, match="not a fit state file"):
        torch.save({"x": torch.zeros(1)}, tmp_path / "other.pt")
        FitState.load(tmp_path / "other.pt", g, op, y, truth=x)


def test_fit_mutates_neither_the_rule_nor_the_generator() -> None:
    g, op, y, x = _problem()
    before = {k: v.clone() for k, v in g.state_dict().items()}
    rule = StopRule(check_every=10, window=20)
    pristine = dataclasses.replace(rule)
    r = fit(g, op, y, truth=x, rule=rule, max_iters=60, device="cpu")
    assert rule == pristine and r.config["rule"]["max_iters"] == 60
    after = g.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert r.generator is not None and r.generator is not g
    with torch.no_grad():
        assert torch.equal(r.generator(), r.estimate)
    assert on_device(op, torch.device("cpu")) is op  # not copied when already there


def test_gd_plateau_off_applies_to_the_copy_only() -> None:
    n = 128
    x = smooth_signal(n, 5, seed=0).float().reshape(1, n)
    op = GaussianOperator((1, n), 32, seed=100)
    g = TwoLayerGenerator((1, n), channels=32, kernel=("triangular", 8.0), theorem3_xi=0.1)
    weight = g.weight.detach().clone()
    rule, schedule = StopRule(check_every=10, window=20), Schedule()
    r = fit(g, op, op(x[None]), optimizer="gd", rule=rule, schedule=schedule, max_iters=40,
            device="cpu")  # fmt: skip
    assert schedule.plateau is True and rule.max_iters == StopRule().max_iters
    assert r.config["schedule"]["plateau"] is False and r.config["rule"]["max_iters"] == 40
    assert torch.equal(g.weight, weight)  # prepare() rescaled the copy's C_0, not ours


def _checks(rates: Rates, losses: list[float]) -> list[float]:
    """The base rate after each of a sequence of checks (one member, never stopping)."""
    stop = StopState(StopRule(max_iters=10**6, window=10**5, check_every=1), np.zeros(1))
    seen = []
    for it, loss in enumerate(losses):
        rates.on_check(np.array([loss]), stop)
        stop.update(it, np.array([loss]))
        seen.append(float(rates.base[0]))
    assert stop.active.all()
    return seen


def test_plateau_cuts_lr_by_factor_exactly_after_patience_checks() -> None:
    rates = Rates(Schedule(patience=3, factor=0.3), lr0=np.array([1.0]))
    seen = _checks(rates, [10.0, 5.0, 5.0, 5.0, 5.0, 4.999, 5.0, 5.0, 5.0])
    # improving at checks 0 and 1; checks 2, 3 do not cut, the 3rd non-improving check
    # (4) cuts by 0.3; 4.999 is not a 1 % improvement, so the count restarts from the cut
    assert seen == [1.0, 1.0, 1.0, 1.0, 0.3, 0.3, 0.3, 0.3 * 0.3, 0.3 * 0.3]
    assert rates.lr0[0] == 1.0  # the initial rate is kept


def test_plateau_respects_min_lr_ratio_and_the_plateau_switch() -> None:
    schedule = Schedule(patience=1, min_lr_ratio=0.2)
    for plateau, final in ((True, 0.125), (False, 1.0)):
        rates = Rates(dataclasses.replace(schedule, plateau=plateau), np.ones(1))
        # halved while above 0.2 × lr0: 0.5, 0.25, 0.125
        assert _checks(rates, [1.0] * 10)[-1] == final


def test_divergence_halves_and_admission_resets_only_the_members_named() -> None:
    rates = Rates(Schedule(patience=1), np.array([1.0, 2.0, 4.0]))
    rates.halve(np.array([False, True, True]))
    assert rates.base.tolist() == [1.0, 1.0, 2.0] and rates.lr0.tolist() == [1.0, 2.0, 4.0]
    rates.bad_checks[:] = 3
    rates.admit(np.array([2]))
    assert rates.bad_checks.tolist() == [3, 3, 0]
    # the logged rate: the base times the time schedule's factor at each own iteration
    warm = Rates(Schedule(warmup=4), np.array([1.0, 2.0]))
    assert warm.in_use(np.array([0, 1])).tolist() == [0.25, 1.0]


def test_every_fit_keyword_is_known_and_routed_to_one_owner() -> None:
    rule_fields = {f.name for f in dataclasses.fields(StopRule)}
    schedule_fields = {f.name for f in dataclasses.fields(Schedule)}
    assert not rule_fields & schedule_fields
    assert rule_fields | schedule_fields <= FitOptions.__optional_keys__
    g, op, y, x = _problem()
    with pytest.raises(TypeError, match="unknown setting 'half_lives'"):
        init_state(g, op, y, half_lives=3, device="cpu")  # type: ignore[call-arg]
    state = init_state(g, op, y, max_iters=7, warmup=3, rule=StopRule(tol=0.5), device="cpu")
    assert state.settings.rule == StopRule(max_iters=7, tol=0.5)
    assert state.settings.schedule == Schedule(warmup=3)
    with pytest.raises(ValueError, match="warmup, hold and half_life must be >= 0"):
        init_state(g, op, y, half_life=-1, device="cpu")


def test_fit_on_a_plateauing_problem_lowers_the_logged_lr() -> None:
    x = load_image("shepp_logan", 16)
    op = make_operator("gaussian", (1, 16, 16), 0.125, seed=3)
    g = DeepDecoder((1, 16, 16), channels=8, layers=3, seed=0)
    opts = {"lr": 0.02, "max_iters": 1000, "check_every": 20, "window": 100, "device": "cpu"}
    lr = fit(g, op, op(x[None]), patience=2, **opts).history["lr"][:, 0]
    assert np.all(np.diff(lr) <= 0) and lr[-1] <= 0.01 < lr[0]  # Adam oscillates at 0.02
    flat = fit(g, op, op(x[None]), plateau=False, **opts).history["lr"][:, 0]
    assert np.all(flat == 0.02)


if __name__ == "__main__":
    _resume_main(sys.argv[1:])
