"""The three tiers from the CLI, on a workflow no shipped model has seen ('delta')."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flowsleuth.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def home(generalist_home: Path, tmp_path: Path, use_home) -> Path:  # type: ignore[no-untyped-def]
    """A fresh copy of the generalist home per test (labels and history change it)."""
    h = tmp_path / "home"
    shutil.copytree(generalist_home, h)
    use_home(h)
    return h


def _triage(path: Path) -> list[dict]:
    res = runner.invoke(app, ["triage", str(path), "-f", "jsonl", "--explain", "0"])
    assert res.exit_code == 0, res.output
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def test_unseen_workflow_without_history_gets_zero_shot_and_a_note(
    home, make_run, write_csv, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    csv = write_csv(make_run("delta", 1, kind="cpu_2", scale=7.0, seed=11), tmp_path / "delta-run0001.csv")
    res = runner.invoke(app, ["triage", str(csv), "-f", "jsonl", "--explain", "0"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert {r["tier"] for r in rows} == {"zero-shot"}
    assert "no history for workflow 'delta'" in res.stderr
    bad = [r for r in rows if r["host"] in ("h0", "h1")]
    good = [r for r in rows if r["host"] not in ("h0", "h1")]
    assert min(r["score"] for r in bad) > max(r["score"] for r in good)


def test_why_says_the_tier(home, make_run, write_csv, tmp_path) -> None:  # type: ignore[no-untyped-def]
    csv = write_csv(make_run("delta", 1, kind="cpu_2", scale=7.0, seed=11), tmp_path / "delta-run0001.csv")
    res = runner.invoke(app, ["why", str(csv), "tf1_ID00000", "--json"])
    assert res.exit_code == 0, res.output
    v = json.loads(res.stdout)
    assert v["tier"] == "zero-shot"
    assert "generalist_score" in {e["tool"] for e in v["evidence"]}
    assert "no history for workflow 'delta'" in res.stderr


def test_baseline_add_moves_to_the_history_tier(home, make_run, write_csv, tmp_path) -> None:  # type: ignore[no-untyped-def]
    past = [
        write_csv(make_run("delta", i, seed=12), tmp_path / "past" / f"delta-run{i:04d}.csv")
        for i in range(4)
    ]
    res = runner.invoke(app, ["baseline", "add", str(tmp_path / "past")])
    assert res.exit_code == 0, res.output
    assert "4 new run(s), 4 in its history" in res.stderr
    assert (home / "history" / "delta.json").is_file()
    csv = write_csv(make_run("delta", 9, kind="hdd_5", scale=7.0, seed=12), tmp_path / "delta-run0009.csv")
    rows = _triage(csv)
    assert {r["tier"] for r in rows} == {"history (4 runs)"}
    assert past


def test_feedback_on_a_job_changes_the_next_verdict_on_a_similar_job(
    home, make_run, write_csv, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    run = make_run("delta", 1, kind="cpu_2", scale=7.0, seed=11)
    csv = write_csv(run, tmp_path / "delta-run0001.csv")
    # a similar job: the same job of ANOTHER run of the workflow, slowed on the same host
    other = write_csv(make_run("delta", 2, kind="cpu_2", scale=7.0, seed=11), tmp_path / "delta-run0002.csv")
    before = {r["job_id"]: r for r in _triage(other)}
    h0 = [j for j, r in before.items() if r["host"] == "h0"]
    assert all(before[j]["is_anomalous"] for j in h0)
    # the user says the slow jobs of host h0 in run 1 are normal after all
    res = runner.invoke(app, ["label", str(csv), *h0, "--normal", "--no-index"])
    assert res.exit_code == 0, res.output
    after = {r["job_id"]: r for r in _triage(other)}
    assert after[h0[0]]["tier"] == "labelled (1 runs)"
    assert after[h0[0]]["score"] < before[h0[0]]["score"] - 0.1


def test_feedback_file_labels_jobs(home, make_run, write_csv, tmp_path) -> None:  # type: ignore[no-untyped-def]
    csv = write_csv(
        make_run("delta", 1, kind="cpu_2", scale=7.0, seed=11), tmp_path / "runs" / "delta-run0001.csv"
    )
    rows = _triage(csv)
    rows[0]["confirmed"] = False
    rows[1]["feedback"] = "anomalous"
    fb = tmp_path / "triage.jsonl"
    fb.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    res = runner.invoke(app, ["feedback", str(fb), "--runs", str(tmp_path / "runs"), "--no-index"])
    assert res.exit_code == 0, res.output
    lines = (home / "labels" / "delta.jsonl").read_text().splitlines()
    got = {json.loads(x)["job"]: json.loads(x)["anomalous"] for x in lines}
    assert got == {rows[0]["job_id"]: not rows[0]["is_anomalous"], rows[1]["job_id"]: True}


def test_feedback_without_any_judgement_is_a_clear_error(home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fb = tmp_path / "t.jsonl"
    fb.write_text(json.dumps({"run": "r", "job_id": "j"}) + "\n")
    res = runner.invoke(app, ["feedback", str(fb), "--runs", str(tmp_path)])
    assert res.exit_code == 1
    assert "no row carries" in res.output


def test_a_judge_adapts_to_a_workflows_labels_once(home, make_run, write_csv, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flowsleuth.tools.generalist import judge as gjudge

    csv = write_csv(make_run("delta", 1, kind="cpu_2", scale=7.0, seed=11), tmp_path / "delta-run0001.csv")
    res = runner.invoke(app, ["label", str(csv), "tf0_ID00000", "--anomalous", "--no-index"])
    assert res.exit_code == 0, res.output
    calls: list[int] = []
    real = gjudge.adapt_to
    monkeypatch.setattr(gjudge, "adapt_to", lambda m, lab: calls.append(1) or real(m, lab))
    j = gjudge.load_judge(home)
    assert j is not None
    for i in (2, 3):
        got = j.judge(make_run("delta", i, kind="cpu_2", scale=7.0, seed=11))
        assert str(got.tier) == "labelled (1 runs)"
    assert calls == [1]
