from __future__ import annotations

import json
from pathlib import Path

from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import RUNS_DIR, sample_run
from typer.testing import CliRunner

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("flowsleuth ")


def test_data_info_table() -> None:
    result = runner.invoke(app, ["data", "info", str(sample_run("1000-genome-run0084"))])
    assert result.exit_code == 0, result.output
    assert "hdd_5 33" in result.stdout
    assert "137" in result.stdout


def test_data_info_json_for_a_directory() -> None:
    result = runner.invoke(app, ["data", "info", str(RUNS_DIR), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload) == len(list(RUNS_DIR.glob("*/*.csv")))
    first = {p["run_id"]: p for p in payload}["1000-genome-run0084"]
    assert first["labels"] == {"None": 104, "hdd_5": 33}
    assert first["hosts"] == 21
    assert first["span_s"] > 0


def test_data_info_bad_input_is_one_line_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    for target in (tmp_path / "missing.csv", bad):
        result = runner.invoke(app, ["data", "info", str(target)])
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert result.stderr.startswith("error: ")
        assert str(target.name) in result.stderr
