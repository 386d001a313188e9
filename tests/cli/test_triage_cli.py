"""`flowsleuth triage`: formats, the JSONL schema, exit codes, unlabelled input, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from flowsleuth.agent.triage_models import TriageRow
from flowsleuth.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()


def _jsonl(result) -> list[TriageRow]:  # type: ignore[no-untyped-def]
    return [TriageRow.model_validate_json(line) for line in result.stdout.splitlines() if line.strip()]


def test_jsonl_rows_follow_the_schema(env, target_csv: Path) -> None:
    result = runner.invoke(app, ["triage", str(target_csv), "-f", "jsonl", "--explain", "0"])
    assert result.exit_code == 0, result.output
    rows = _jsonl(result)
    assert len(rows) == 137
    assert {r.run for r in rows} == {"1000-genome-run0084"}
    for r in rows:
        assert r.score is not None and 0.0 <= r.score <= 1.0
        assert r.is_anomalous == (r.anomaly_class != "None")
        assert (r.culprit == r.host) if r.is_anomalous else r.culprit is None
    keys = set(json.loads(result.stdout.splitlines()[0]))
    assert keys == {
        "workflow",
        "run",
        "job_id",
        "transformation",
        "host",
        "is_anomalous",
        "score",
        "anomaly_class",
        "culprit",
        "explanation",
        "tier",
    }


def test_labels_are_never_read_for_scoring(env, target_csv: Path, tmp_path: Path) -> None:
    df = pd.read_csv(target_csv, dtype=str, keep_default_na=False)
    unlabelled = tmp_path / target_csv.name
    df.drop(columns="anomaly_type").to_csv(unlabelled, index=False)
    relabelled = tmp_path / "x" / target_csv.name
    relabelled.parent.mkdir()
    df.assign(anomaly_type="cpu_4").to_csv(relabelled, index=False)
    outs = [
        runner.invoke(app, ["triage", str(p), "-f", "jsonl", "--explain", "0"]).stdout
        for p in (target_csv, unlabelled, relabelled)
    ]
    assert outs[0] == outs[1] == outs[2]
    assert outs[0].count("\n") == 137


def test_fail_on_anomalous_exit_codes(env, target_csv: Path) -> None:
    flagged = runner.invoke(
        app, ["triage", str(target_csv), "-f", "jsonl", "--explain", "0", "--threshold", "0.2"]
    )
    assert any(r.is_anomalous for r in _jsonl(flagged))
    found = runner.invoke(
        app,
        [
            "triage",
            str(target_csv),
            "-f",
            "jsonl",
            "--explain",
            "0",
            "--threshold",
            "0.2",
            "--fail-on",
            "anomalous",
        ],
    )
    assert found.exit_code == 3
    clean = runner.invoke(
        app,
        [
            "triage",
            str(target_csv),
            "-f",
            "jsonl",
            "--explain",
            "0",
            "--threshold",
            "1.0",
            "--fail-on",
            "anomalous",
        ],
    )
    assert clean.exit_code == 0
    assert not any(r.is_anomalous for r in _jsonl(clean))
    without_flag = runner.invoke(
        app, ["triage", str(target_csv), "-f", "jsonl", "--explain", "0", "--threshold", "0.2"]
    )
    assert without_flag.exit_code == 0


def test_bad_input_and_usage_exit_1(env, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    for args in (
        ["triage", str(tmp_path / "missing.csv")],
        ["triage", str(empty)],
        ["triage", "--no-such-flag", "x"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, args
        assert "Traceback" not in result.output


def test_json_and_csv_formats(env, target_csv: Path, tmp_path: Path) -> None:
    as_json = runner.invoke(app, ["triage", str(target_csv), "-f", "json", "--explain", "0"])
    payload = json.loads(as_json.stdout)
    assert payload[0]["run"] == "1000-genome-run0084" and len(payload[0]["rows"]) == 137
    out = tmp_path / "rows.csv"
    as_csv = runner.invoke(app, ["triage", str(target_csv), "-f", "csv", "--out", str(out), "--explain", "0"])
    assert as_csv.exit_code == 0, as_csv.output
    frame = pd.read_csv(out)
    assert len(frame) == 137 and list(frame.columns) == list(TriageRow.model_fields)


def test_html_report_escapes_job_fields(env, target_csv: Path, tmp_path: Path) -> None:
    df = pd.read_csv(target_csv, dtype=str, keep_default_na=False)
    evil = "<script>alert('x')</script>\x1b]0;pwned\x07"
    df.loc[df.index[:40], "kickstart_hostname"] = evil
    df.loc[:, "kickstart_executables_argv"] = evil
    run = tmp_path / target_csv.name
    df.to_csv(run, index=False)
    report = tmp_path / "report.html"
    result = runner.invoke(
        app,
        ["triage", str(run), "-f", "jsonl", "--explain", "0", "--threshold", "0.0", "--report", str(report)],
    )
    assert result.exit_code == 0, result.output
    page = report.read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;\\x1b]0;pwned\\x07" in page
    assert "\x1b" not in page and "\x07" not in page
    assert page.count('<img class="plot"') == 3


def test_explain_is_one_budget_for_the_whole_command(env, target_csv: Path, tmp_path: Path) -> None:
    """--explain N explains N jobs over every run of a directory, not N per run; a directory
    explains none unless asked."""
    runs = tmp_path / "runs"
    runs.mkdir()
    df = pd.read_csv(target_csv, dtype=str, keep_default_na=False)
    for i in (1, 2):
        df.to_csv(runs / target_csv.name.replace("0084", f"000{i}"), index=False)
    explained = []
    for extra in ([], ["--explain", "1"]):
        result = runner.invoke(app, ["triage", str(runs), "-f", "jsonl", "--backend", "none", *extra])
        assert result.exit_code == 0, result.output
        explained.append(sum(r.explanation is not None for r in _jsonl(result)))
    assert explained == [0, 1]
