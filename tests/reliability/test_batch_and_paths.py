"""A broken run in a batch is reported and skipped; unwritable outputs fail before any work."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flowsleuth.agent.triage_models import TriageRow
from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

runner = CliRunner()


def _batch(tmp_path: Path) -> Path:
    d = tmp_path / "batch"
    d.mkdir()
    shutil.copy(sample_run("1000-genome-run0084"), d)
    shutil.copy(sample_run("1000-genome-run0009"), d)
    (d / "1000-genome-run0050.csv").write_text("node_id,runtime\nx,1\n")
    return d


def test_broken_run_is_reported_skipped_and_exit_1(env, tmp_path: Path) -> None:
    result = runner.invoke(app, ["triage", str(_batch(tmp_path)), "-f", "jsonl", "--explain", "0"])
    assert result.exit_code == 1, result.output
    assert "skipped:" in result.stderr and "run0050.csv: missing required column" in result.stderr
    assert "Traceback" not in result.output
    rows = [TriageRow.model_validate_json(line) for line in result.stdout.splitlines()]
    assert {r.run for r in rows} == {"1000-genome-run0084", "1000-genome-run0009"}


def test_fail_on_anomalous_wins_over_a_skipped_run(env, tmp_path: Path) -> None:
    args = ["triage", str(_batch(tmp_path)), "-f", "jsonl", "--explain", "0", "--fail-on", "anomalous"]
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.output
    assert "1 run(s) skipped" in result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        ["-f", "jsonl", "--out", "{tmp}/missing/o.jsonl"],
        ["-f", "json", "--out", "{tmp}"],
        ["-f", "jsonl", "--report", "{tmp}/missing/r.html"],
        ["-f", "csv", "--out", "{tmp}"],
    ],
)
def test_unwritable_outputs_fail_before_the_work(env, tmp_path: Path, extra: list[str]) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    result = runner.invoke(app, ["triage", str(sample_run("1000-genome-run0084")), "--explain", "0", *args])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""  # no row was produced, then lost
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "directory" in lines[0]
