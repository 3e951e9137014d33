"""`untrained-cs reproduce`: every experiment at smoke scale, its report, and its refusals."""

from __future__ import annotations

import json
import math

import pytest

from untrained_cs.cli import main
from untrained_cs.experiments.claims import NOT_COMPARABLE, Claim, check
from untrained_cs.experiments.registry import NAMES, expand


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "all"
    # one thread: these problems are tiny, and a second thread only adds contention
    args = ["reproduce", "all", "--scale", "smoke", "--out", str(out), "--quiet", "--threads", "1"]
    assert main(args) == 0
    return out


@pytest.mark.slow  # end to end: scripts/test.sh runs it after the fast suite
def test_all_at_smoke_scale_writes_every_experiment_with_measured_claims(smoke):
    doc = json.loads((smoke / "claims.json").read_text())
    assert doc["scale"] == "smoke" and doc["machine"]["cpu"]
    assert [e["name"] for e in doc["experiments"]] == list(NAMES)
    for e in doc["experiments"]:
        assert e["claims"], e["name"]
        for c in e["claims"]:
            assert c["verdict"] in ("holds", "does not hold", "not comparable")
            assert c["measured"] is not None, (e["name"], c["claim"])
            assert c["reason"]
        for f in e["files"]:
            assert (smoke / f).is_file() and (smoke / f).stat().st_size > 0
        assert (smoke / e["name"] / "data.json").is_file()


@pytest.mark.slow  # end to end: scripts/test.sh runs it after the fast suite
def test_the_report_has_one_table_row_per_claim_and_every_figure(smoke):
    doc = json.loads((smoke / "claims.json").read_text())
    text = (smoke / "report.md").read_text()
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith(("| experiment ", "| claim "))
    ]
    claims = sum(len(e["claims"]) for e in doc["experiments"])
    assert len(rows) == claims + len(doc["experiments"])  # claims rows + the summary rows
    for e in doc["experiments"]:
        assert f"## {e['name']}: " in text
        for f in e["files"]:
            assert f"]({f})" in text
    page = (smoke / "report.html").read_text()
    pictures = sum(f.endswith(".png") for e in doc["experiments"] for f in e["files"])
    assert page.count('src="data:image/png;base64,') == pictures
    assert page.count('<tr style="background') == claims


def test_the_paper_scale_is_refused_on_a_cpu_with_its_estimate(tmp_path, capsys):
    out = tmp_path / "paper"
    assert main(["reproduce", "fig1", "--scale", "paper", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "GPU job" in err and "fig1 ~" in err and "GB" in err
    assert not out.exists() and not (tmp_path / "paper.partial").exists()


def test_unknown_experiments_and_scales_exit_2(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "fig9", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "fig2", "--scale", "huge", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2


def test_expand_all_and_duplicates():
    assert expand(["all"]) == list(NAMES)
    assert expand(["fig2", "fig2", "thm1"]) == ["fig2", "thm1"]
    with pytest.raises(ValueError, match="unknown experiment"):
        expand(["fig7"])


def test_claim_rows_check_their_verdicts():
    assert check("c", 0.5, True, "r").verdict == "holds"
    assert check("c", 0.5, False, "r").verdict == "does not hold"
    nan = check("c", math.nan, True, "r")
    assert nan.verdict == NOT_COMPARABLE and nan.measured is None
    with pytest.raises(ValueError, match="verdict"):
        Claim("c", "", 1.0, "maybe", "r")


def test_fig5_reads_a_fastmri_file_given_by_kspace(tmp_path):
    h5py = pytest.importorskip("h5py")
    import numpy as np

    rng = np.random.default_rng(0)
    k = rng.standard_normal((2, 2, 32, 32)) + 1j * rng.standard_normal((2, 2, 32, 32))
    path = tmp_path / "file.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=k.astype(np.complex64))
    out = tmp_path / "fig5"
    argv = ["reproduce", "fig5", "--scale", "smoke", "--kspace", str(path), "--slice", "1"]
    assert main([*argv, "--out", str(out), "--quiet", "--threads", "1"]) == 0
    doc = json.loads((out / "claims.json").read_text())
    settings = doc["experiments"][0]["settings"]
    assert settings["kspace"] == str(path) and settings["slice"] == 1
    data = json.loads((out / "fig5" / "data.json").read_text())
    assert str(path) in json.dumps(data["source"])


def test_every_experiment_is_typed_and_every_setting_carries_help_and_source():
    import dataclasses

    from untrained_cs.experiments.claims import SCALES
    from untrained_cs.experiments.experiment import Experiment
    from untrained_cs.experiments.registry import TOOLS, experiment, tool

    for name in NAMES:
        e = experiment(name)
        assert isinstance(e, Experiment) and tuple(e.scales) == SCALES
        for f in dataclasses.fields(e.settings_type):
            assert f.metadata["help"], (name, f.name)
            assert "source" in f.metadata, (name, f.name)
        assert all(isinstance(s, e.settings_type) for s in e.scales.values())
    assert set(TOOLS.values()) == {n for n in NAMES if experiment(n).tool is not None}
    assert tool("basis") is experiment("fig2").tool


def test_settings_are_checked_when_built(tmp_path):
    from dataclasses import replace

    from untrained_cs.experiments.figure4 import SETTINGS as FIG4
    from untrained_cs.experiments.figure5 import SETTINGS as FIG5
    from untrained_cs.experiments.theorem1 import Theorem1Settings

    with pytest.raises(ValueError, match="slice needs a k-space file"):
        replace(FIG5["smoke"], slice=1)
    with pytest.raises(ValueError, match="no such file"):
        replace(FIG5["smoke"], kspace=str(tmp_path / "missing.h5"))
    path = tmp_path / "file.h5"
    path.write_bytes(b"")
    assert replace(FIG5["smoke"], kspace=str(path)).size is None  # a file brings its size
    with pytest.raises(ValueError, match="snapshots must lie in 1..20"):
        replace(FIG4["smoke"], snapshots=(1, 30))
    with pytest.raises(ValueError, match="gamma must be > 0"):
        Theorem1Settings(gamma=0.0)
    with pytest.raises(ValueError, match="trials must be >= 1"):
        Theorem1Settings(trials=0)
