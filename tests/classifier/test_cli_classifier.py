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


def test_train_an_sft_adapter_for_ones_own_workflow(tmp_path: Path) -> None:
    out = tmp_path / "a"
    args = ["train", str(RUNS_DIR), "--out", str(out), "--scorer", "sft", "--adapter", "--task", "binary"]
    res = runner.invoke(app, [*args, "--max-train", "24", "--max-val", "8", "--lora-r", "2"])
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["params"]["adapter"]["r"] == 2 and meta["template"] == "short-v1"
    assert (out / "adapter" / "adapter_model.safetensors").is_file() and not (out / "model").exists()


def test_adapter_needs_the_sft_scorer(tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", str(RUNS_DIR), "--out", str(tmp_path / "x"), "--adapter"])
    assert res.exit_code == 1 and "--scorer sft" in res.output
