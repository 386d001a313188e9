"""The job_state tool and the decision that honours it (the one path triage and why share)."""

from __future__ import annotations

import pytest
from flowsleuth.tools.decision.decide import decide
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.job_state import job_state
from flowsleuth.workflows.contract import Subject, ToolResult
from flowsleuth.workflows.pegasus import iter_pegasus_runs
from flowsleuth.workflows.summary import summarize

from .conftest import FIXTURES


def _run(name: str):
    return next(iter(iter_pegasus_runs(FIXTURES / name)))


def _decide(run, job: str, extra: list[ToolResult] | None = None):
    results = [job_state(Subject(run, job)), *(extra or [])]
    return decide(results, Fusion(), str(run.frame.at[job, "kickstart_hostname"]))


@pytest.mark.parametrize(
    ("name", "job", "cls"),
    [
        ("process_wf_failure", "ls_ID0000001", "failure"),
        ("sample_wf_held", "chebi_drug_loader_ID0000001", "held"),
        ("hierarchical_wf_failure", "pegasus-plan_diamond_subworkflow", "failure"),
    ],
)
def test_recorded_problem_decides(name: str, job: str, cls: str) -> None:
    run = _run(name)
    # a feature score that says "normal" does not outvote the record
    low = ToolResult.ok("tree_score", {"score": 0.01, "pred_class": "None"}, "low")
    d = _decide(run, job, [low])
    assert d.is_anomalous and d.anomaly_class == cls and d.score == 1.0 and d.confidence == "high"
    assert d.sources["job_state"] == 1.0 and d.sources["tree_score"] == 0.01


def test_tool_evidence_carries_state_exit_code_tails() -> None:
    r = job_state(Subject(_run("process_wf_failure"), "ls_ID0000001"))
    assert r.data["state"] == "POST_SCRIPT_FAILED" and r.data["exit_code"] == 2
    assert r.data["retries"] == 1 and r.data["kickstart_status"] == 512
    assert "invalid option" in r.data["stdout_tail"] and r.data["problem"] == "failure"
    assert "exit code 2" in r.summary and "1 retry" in r.summary


def test_clean_and_unsubmitted_jobs() -> None:
    run = _run("process_wf_failure")
    high = ToolResult.ok("tree_score", {"score": 0.99, "pred_class": "cpu_3"}, "high")
    ok = _decide(run, "create_dir_process_0_local", [high])
    assert ok.is_anomalous and ok.anomaly_class != "failure"  # no record: the scores decide
    never = _decide(run, "cleanup_process_0_local", [high])
    assert not never.is_anomalous and never.score is None  # never ran: nothing to score


def test_flowbench_run_has_no_record(cpu_run) -> None:
    r = job_state(Subject(cpu_run, cpu_run.job_ids[0]))
    assert r.status == "no_data"


def test_summary_counts() -> None:
    s = summarize(_run("sample_wf_held"))
    assert s.job_states is not None
    assert (s.job_states.total, s.job_states.succeeded, s.job_states.failed, s.job_states.held) == (
        8,
        2,
        1,
        1,
    )
    assert s.job_states.unsubmitted == 5 and s.workflow == "Drug-Combination-Therapy"
