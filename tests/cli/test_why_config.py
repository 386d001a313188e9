"""`flowsleuth why` with each fallback, and `config show` precedence."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from flowsleuth.agent.verdict import Verdict
from flowsleuth.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()
JOB = "individuals_ID0000047"


def test_why_json_without_llm(env, target_csv: Path) -> None:
    result = runner.invoke(app, ["why", str(target_csv), JOB, "--json"])
    assert result.exit_code == 0, result.output
    v = Verdict.model_validate_json(result.stdout)
    assert v.job_id == JOB and v.run_id == "1000-genome-run0084"
    assert v.backend.llm_used is False
    assert v.score is not None
    tools = {e.tool for e in v.evidence}
    assert {"tree_score", "run_diagnosis"} <= tools
    assert v.examples and all(e["run"] != "1000-genome-run0084" for e in v.examples)


def test_why_panel(env, target_csv: Path) -> None:
    result = runner.invoke(app, ["why", str(target_csv), JOB])
    assert result.exit_code == 0, result.output
    for text in ("verdict", "evidence", "explanation", "few-shot examples"):
        assert text in result.stdout


def test_why_wrong_job_id(env, target_csv: Path) -> None:
    result = runner.invoke(app, ["why", str(target_csv), "no_such_job"])
    assert result.exit_code == 1
    assert "no job 'no_such_job'" in result.stderr
    assert "Traceback" not in result.output


def test_why_with_unreachable_llm_falls_back_in_bounded_time(env, target_csv: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLOWSLEUTH_LLM_TIMEOUT_S", "2")
    t0 = time.monotonic()
    result = runner.invoke(
        app,
        ["why", str(target_csv), JOB, "--json", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1"],
    )
    assert time.monotonic() - t0 < 60
    assert result.exit_code == 0, result.output
    v = Verdict.model_validate_json(result.stdout)
    assert v.backend.llm_used is False
    assert v.backend.reason
    baseline = Verdict.model_validate_json(runner.invoke(app, ["why", str(target_csv), JOB, "--json"]).stdout)
    assert (v.is_anomalous, v.score, v.anomaly_class) == (
        baseline.is_anomalous,
        baseline.score,
        baseline.anomaly_class,
    )


@pytest.mark.parametrize(
    ("file_value", "env_value", "flag", "expected"),
    [
        (None, None, None, "embedded"),
        ("openai", None, None, "openai"),
        ("openai", "none", None, "none"),
        ("openai", "none", "embedded", "embedded"),
    ],
)
def test_config_precedence(tmp_path, monkeypatch, file_value, env_value, flag, expected) -> None:
    config = tmp_path / "config.toml"
    if file_value:
        config.write_text(f'backend = "{file_value}"\nmax_steps = 5\n')
    monkeypatch.setenv("FLOWSLEUTH_CONFIG", str(config))
    monkeypatch.delenv("FLOWSLEUTH_BACKEND", raising=False)
    if env_value:
        monkeypatch.setenv("FLOWSLEUTH_BACKEND", env_value)
    args = ["config", "show", "--json"] + (["--backend", flag] if flag else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["backend"] == expected
    assert shown["max_steps"] == (5 if file_value else 2)


def test_bad_config_is_a_clear_error(tmp_path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('backend = "gpt-9"\n')
    monkeypatch.setenv("FLOWSLEUTH_CONFIG", str(config))
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 1
    assert "bad configuration for 'backend'" in result.stderr
