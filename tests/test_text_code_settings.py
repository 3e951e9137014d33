"""Issue 25's two labelled settings (`--setting text|code`): where the paper's text and the
authors' code differ, the text setting changes exactly those fields; where an experiment has
one setting, `reproduce --setting` says so and leaves it as it is."""

from __future__ import annotations

import dataclasses
import json
from types import ModuleType

import pytest

from untrained_cs.cli import main
from untrained_cs.experiments import figure1, figure2, figure4_settings, figure5_settings
from untrained_cs.experiments.claims import SCALES
from untrained_cs.experiments.registry import NAMES, experiment

#: each experiment with a text/code difference, and the module holding its two tables
TABLES: dict[str, ModuleType] = {
    "fig1": figure1, "fig2": figure2, "fig4": figure4_settings, "fig5": figure5_settings,
}  # fmt: skip


def _declares_setting(name: str) -> bool:
    return "setting" in {f.name for f in dataclasses.fields(experiment(name).settings_type)}


def test_every_experiment_with_a_setting_field_has_its_two_tables():
    assert {n for n in NAMES if _declares_setting(n)} == set(TABLES)
    assert not _declares_setting("thm1")  # one setting: no code for Theorem 1


@pytest.mark.parametrize("name", sorted(TABLES))
def test_text_changes_exactly_the_fields_of_text_values_at_the_paper_scale(name):
    module = TABLES[name]
    text_values, code_values = module.TEXT_VALUES, module.CODE_VALUES
    assert set(text_values) == set(code_values)
    assert all(text_values[k] != code_values[k] for k in text_values)
    exp = experiment(name)
    code = exp.settings("paper")
    assert code.setting == "code"  # the default: the code made the published figures
    assert {k: getattr(code, k) for k in code_values} == code_values
    text = exp.settings("paper", {"setting": "text"})
    changed = {f.name for f in dataclasses.fields(code)
               if getattr(code, f.name) != getattr(text, f.name)}  # fmt: skip
    assert changed == {*text_values, "setting"}
    assert {k: getattr(text, k) for k in text_values} == text_values
    for scale in SCALES:  # every scale builds (and so checks) both settings
        exp.settings(scale, {"setting": "text"})
        exp.settings(scale, {"setting": "code"})


@pytest.mark.parametrize("setting", ["text", "code"])
def test_reproduce_setting_runs_fig2_thm1_fig4_at_smoke_scale(setting, tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["reproduce", "fig2", "thm1", "fig4", "--scale", "smoke", "--setting", setting]
    assert main([*argv, "--out", str(out), "--quiet", "--threads", "1"]) == 0
    doc = json.loads((out / "claims.json").read_text())
    by_name = {e["name"]: e for e in doc["experiments"]}
    assert by_name["fig2"]["settings"]["setting"] == setting
    assert by_name["fig4"]["settings"]["setting"] == setting
    assert "setting" not in by_name["thm1"]["settings"]
    numbering = {"text": "eq10", "code": "singular"}[setting]
    assert by_name["fig2"]["settings"]["numbering"] == numbering
    optimizer = {"text": "gd", "code": "adam"}[setting]
    assert by_name["fig4"]["settings"]["optimizer"] == optimizer
    data = json.loads((out / "fig4" / "data.json").read_text())
    assert data["setting"] == setting and ("restarted" in data) == (setting == "code")
    err = capsys.readouterr().err
    assert f"thm1: one setting (it declares no text/code difference); --setting {setting}" in err
    assert "fig2: one setting" not in err and "fig4: one setting" not in err
