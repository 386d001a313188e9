"""`flowsleuth evals run`: replays case folders and writes one row per backend."""

from __future__ import annotations

import json
from pathlib import Path

from flowsleuth.cli.main import app
from typer.testing import CliRunner

REPO_EVALS = Path(__file__).resolve().parents[2] / "evals"


def test_evals_run_none_writes_a_row(tmp_path: Path) -> None:
    out = tmp_path / "explain_eval"
    args = ["evals", "run", "--backend", "none", "--dir", str(REPO_EVALS), "--cases", "*run0084-clear*"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.with_suffix(".json").read_text())
    row = data["rows"]["none"]
    assert row["cases"] == 2 and row["unsupported_rate_after"] == 0.0
    assert "| none | 2 |" in out.with_suffix(".md").read_text()


def test_evals_run_with_no_matching_case_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["evals", "run", "--dir", str(tmp_path), "--cases", "nope*"])
    assert result.exit_code == 1 and "no eval cases match" in result.output
