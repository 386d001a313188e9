"""Eval cases from real Pegasus runs: the recorded job state is the truth, the case points at a
submit directory bundled in the repository, and the cases pass without an LLM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flowsleuth.cli.main import app
from typer.testing import CliRunner

from .conftest import FIXTURES

REPO_EVALS = Path(__file__).resolve().parents[2] / "evals"
runner = CliRunner()


@pytest.fixture
def env(use_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    use_home(tmp_path / "home")


def test_repo_pegasus_cases_pass_without_llm(env, tmp_path: Path) -> None:
    out = tmp_path / "ev"
    args = ["evals", "run", "--backend", "none", "--dir", str(REPO_EVALS), "--cases", "pegasus-*"]
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.with_suffix(".json").read_text())
    row = data["rows"]["none"]
    assert row["cases"] >= 2
    assert row["verdict_agreement"] == 1.0 and row["class_agreement"] == 1.0
    assert row["must_mention_recall"] == 1.0 and row["must_not_claim_violations"] == 0
    # the job's own quoted words (an errno in a held reason) are data, not unsupported claims
    assert row["unsupported_rate_after"] == 0.0


def test_record_a_failed_job(env, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "process_wf_failure", repo / "fixtures" / "process_wf_failure")
    res = runner.invoke(
        app, ["evals", "record", str(repo / "fixtures" / "process_wf_failure"), "--dir", str(repo / "evals")]
    )
    assert res.exit_code == 0, res.output
    folders = sorted((repo / "evals").iterdir())
    assert [f.name for f in folders] == ["pegasus-process_wf_failure-ls_ID0000001-failure"]
    case = json.loads((folders[0] / "case.json").read_text())
    assert case["run"] == "../../fixtures/process_wf_failure"
    assert case["expected"] == {"is_anomalous": True, "anomaly_class": "failure"}
    facts = [a for f in case["must_mention"] for a in f["any"]]
    assert {"POST_SCRIPT_FAILED", "exit code 2", "/bin/ls: invalid option -- 'z'"} <= set(facts)
    tools = {r["result"]["tool"]: r["kind"] for r in json.loads((folders[0] / "results.json").read_text())}
    assert tools["job_state"] == "state"


def test_record_refuses_a_run_outside_the_repository(env, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["evals", "record", str(FIXTURES / "process_wf_failure"), "--dir", str(tmp_path / "repo" / "evals")],
    )
    assert res.exit_code == 1 and "copy the submit directory into the repository" in res.output
