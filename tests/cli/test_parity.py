"""One scoring path: for every job of a few bundled runs, the ``why --backend none`` verdict
equals the triage row (score, class, culprit). Each side loads and scores the run on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flowsleuth.agent.investigate import investigate
from flowsleuth.agent.triage import triage_run
from flowsleuth.cli.app.settings import load_settings
from flowsleuth.cli.app.toolkit import load_toolkit
from flowsleuth.cli.main import app
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

RUNS = ["1000-genome-run0084", "predict-future-sales-run0083"]


@pytest.mark.parametrize("name", RUNS)
def test_why_equals_triage_for_every_job(env: dict[str, str], name: str) -> None:
    run = load_run(sample_run(name)).without_labels()
    triage_kit = load_toolkit(load_settings(), llm=False, sft=False)
    rows = {r.job_id: r for r in triage_run(triage_kit.deps(run)).rows}
    why_kit = load_toolkit(load_settings(backend="none"), sft=False)
    flagged = 0
    for job in run.job_ids:
        why_deps = why_kit.deps(run, job)  # what `why` does: a scoring pass of the one job
        assert list(why_deps.scores.decisions) == [job]
        assert "knn_vote" in why_deps.scores.by_tool  # the index is in play, not only the models
        v = investigate(why_deps, job)
        row = rows[job]
        assert (v.score, v.is_anomalous, v.anomaly_class, v.culprit) == (
            row.score,
            row.is_anomalous,
            row.anomaly_class,
            row.culprit,
        ), job
        flagged += v.is_anomalous
    assert flagged > 0  # both flagged and normal jobs were compared


def test_cli_why_matches_cli_triage_row(env: dict[str, str], target_csv: Path) -> None:
    runner = CliRunner()
    tri = runner.invoke(app, ["triage", str(target_csv), "-f", "jsonl", "--explain", "1"])
    assert tri.exit_code == 0, tri.output
    rows = [json.loads(line) for line in tri.stdout.splitlines() if line.startswith("{")]
    top = max(rows, key=lambda r: r["score"] or 0.0)
    normal = min(rows, key=lambda r: r["score"] or 0.0)
    for row in (top, normal):
        res = runner.invoke(app, ["why", str(target_csv), row["job_id"], "--json", "--backend", "none"])
        assert res.exit_code == 0, res.output
        v = json.loads(res.stdout[res.stdout.index("{") :])
        assert (v["score"], v["anomaly_class"], v["culprit"]) == (
            row["score"],
            row["anomaly_class"],
            row["culprit"],
        )
    # The explained row's explanation is generated from that row's own decision.
    assert top["is_anomalous"] and top["explanation"]
    assert f"score {top['score']:.2f}" in top["explanation"]
