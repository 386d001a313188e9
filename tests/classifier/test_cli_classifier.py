"""``flowsleuth train`` and ``flowsleuth eval`` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import RUNS_DIR
from typer.testing import CliRunner

runner = CliRunner()


def test_train_then_eval(tmp_path: Path) -> None:
    out = tmp_path / "m"
    res = runner.invoke(
        app, ["train", str(RUNS_DIR), "--out", str(out), "--scorer", "tree", "--rounds", "40"]
    )
    assert res.exit_code == 0, res.output
    assert (out / "meta.json").is_file() and "training rows" in res.output
    js = tmp_path / "e.json"
    res = runner.invoke(app, ["eval", str(out), str(RUNS_DIR), "--json", str(js)])
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text())
    assert data["n"] > 1000 and 0 <= data["f1"] <= 1 and "multiclass" in data


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    res = runner.invoke(app, ["eval", str(tmp_path), str(RUNS_DIR)])
    assert res.exit_code == 1 and "not a flowsleuth model directory" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["train", str(RUNS_DIR), "--out", str(tmp_path / "x"), "--scorer", "svm"])
    assert res.exit_code == 1 and "unknown scorer" in res.output
