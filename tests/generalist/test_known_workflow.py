"""A known workflow keeps its own fit: with the shipped models, the generalist joining the
scoring path changes no verdict on a paper workflow's run, and the rows say so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flowsleuth.cli.app import toolkit
from flowsleuth.cli.main import app
from flowsleuth.tools.pretrained import generalist_dir, pretrained_models_dir
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def fresh_home(tmp_path: Path, use_home) -> Path:  # type: ignore[no-untyped-def]
    """An empty home: triage falls back to the models shipped with flowsleuth."""
    if pretrained_models_dir() is None or generalist_dir() is None:
        pytest.skip("no shipped models in this checkout")
    home = tmp_path / "home"
    use_home(home)
    return home


def _triage(csv: Path) -> dict[str, dict]:
    res = runner.invoke(app, ["triage", str(csv), "-f", "jsonl", "--explain", "0"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    return {r["job_id"]: r for r in rows}


def test_known_workflow_keeps_its_own_fit(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv = sample_run("1000-genome-run0084")
    real, loaded = toolkit._load_generalist, []

    def spy(settings):  # type: ignore[no-untyped-def]
        loaded.append(real(settings))
        return loaded[-1]

    monkeypatch.setattr(toolkit, "_load_generalist", spy)
    with_gen = _triage(csv)
    assert loaded and loaded[0] is not None  # the shipped generalist did judge the run
    assert {r["tier"] for r in with_gen.values()} == {"trained (known workflow)"}
    monkeypatch.setattr(toolkit, "_load_generalist", lambda settings: None)
    without = _triage(csv)
    assert with_gen.keys() == without.keys() and len(with_gen) > 100
    for job, r in with_gen.items():
        assert (r["is_anomalous"], r["score"], r["anomaly_class"]) == (
            without[job]["is_anomalous"],
            without[job]["score"],
            without[job]["anomaly_class"],
        ), job
