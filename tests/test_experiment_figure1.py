"""Figure 1: the notebook's decoder at the paper scale, the text/code setting, the published
numbers in the claims and the thresholds calibrated on them."""

from __future__ import annotations

import json

import pytest

from untrained_cs.experiments import figure1 as f
from untrained_cs.experiments import published as pub
from untrained_cs.experiments.claims import PROJECT_CHECK, VERDICTS
from untrained_cs.pipeline import build_generator
from untrained_cs.problems import CSMeasurement, ImageSignal, ProblemSpec, build


def test_paper_scale_is_the_notebooks_upsampling_plan():
    s = f.SETTINGS["paper"]
    assert s.setting == "code" and (s.layers, s.input_side) == (6, 16)
    assert (s.size, s.channels, s.lr, s.iterations) == (256, 256, 0.005, 100_000)
    problem = build(ProblemSpec(ImageSignal("camera", 256), CSMeasurement(ratio=0.01)))
    decoder = build_generator(problem, f.method_for(s, "deep-decoder"))
    # 16² and 5 upsamplings to 256² (the notebook: 28, 49, 85, 148, 256; it rounds up)
    assert decoder.sizes[0] == (16, 16) and decoder.sizes[-1] == (256, 256)
    assert len(decoder.sizes) - 1 == 5


def test_setting_text_is_the_captions_five_layers():
    text = f.EXPERIMENT.settings("paper", {"setting": "text"})
    assert (text.layers, text.input_side) == (5, None)
    for scale in ("smoke", "cpu"):  # the smaller scales keep their own decoder
        s = f.EXPERIMENT.settings(scale, {"setting": "text"})
        assert (s.layers, s.input_side) == (5, None) == (f.SETTINGS[scale].layers, None)


def test_the_published_curves_pass_the_early_stopping_rule():
    gaps = [c.gap_db for c in pub.FIG1_CURVES]
    assert gaps == pytest.approx([0.080, 0.190, 0.318], abs=2e-3)
    assert max(gaps) == pytest.approx(pub.FIG1_WORST_GAP.value)
    assert all(g <= f.GAP_DB for g in gaps)
    assert pub.FIG1_SMOOTH_OVER_GRASS.value < 1  # the smooth image ends lower, as claimed


def _run(image: str, generator: str, final: float, best: float, error: float) -> dict:
    return {"image": image, "generator": generator, "final_psnr": final, "best_psnr": best,
            "error": [error], "loss": [1e-6], "y_energy": 1.0}  # fmt: skip


def test_claims_carry_published_numbers_and_kinds():
    data = {"images": ["camera", "grass"], "runs": [
        _run("camera", "deep-decoder", 30.0, 30.1, 1.0), _run("grass", "deep-decoder", 20.0,
                                                              20.2, 5.0),
        _run("camera", "dip", 29.0, 29.1, 1.2), _run("grass", "dip", 19.0, 19.1, 6.0),
    ]}  # fmt: skip
    rows = f.claims(data)
    assert all(r.verdict in VERDICTS for r in rows)
    dd = [r for r in rows if r.claim.startswith("deep decoder")]
    dip = [r for r in rows if r.claim.startswith("deep image prior")]
    assert len(dd) == len(dip) == 3
    assert "CS_convergence_grass.dat" in dd[0].published and "0.32 dB" in dd[0].published
    assert dd[1].kind == PROJECT_CHECK and "training MSE" in dd[1].published
    assert "CS_convergence_art.dat" in dd[2].published
    assert all(r.published == "" for r in dip)  # no published DIP curve
    assert [r.kind for r in dd] == ["paper", PROJECT_CHECK, "paper"]


def test_data_notes_the_saved_run_is_inpainting():
    data = f.data(f.SETTINGS["smoke"])
    assert any("inpainting" in n for n in data["notes"])
    assert data["layers"] == 5 and data["input_side"] is None and data["setting"] == "code"


def test_reproduce_setting_flag_reaches_every_experiment_that_declares_it(tmp_path):
    from untrained_cs.cli import main

    out = tmp_path / "r"
    argv = ["reproduce", "fig1", "fig5", "--scale", "smoke", "--setting", "text"]
    assert main([*argv, "--out", str(out), "--quiet", "--threads", "1"]) == 0
    doc = json.loads((out / "claims.json").read_text())
    assert [e["settings"]["setting"] for e in doc["experiments"]] == ["text", "text"]
