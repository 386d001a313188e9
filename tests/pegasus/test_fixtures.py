"""The five real Pegasus 5.0.5 submit directories against pegasus-analyzer's own answers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flowsleuth.workflows.pegasus import iter_pegasus_runs, run_counts

from .conftest import FIXTURES

# pegasus-analyzer on each submit directory (issue #12): total, succeeded, failed, held, unsubmitted
ANALYZER = {
    "process_wf_success": (5, 5, 0, 0, 0),
    "process_wf_failure": (5, 1, 1, 0, 3),
    "hierarchical_wf_failure": (13, 6, 1, 0, 6),
    "sample_wf_held": (8, 2, 1, 1, 5),
}


@pytest.mark.parametrize("name", sorted(ANALYZER))
def test_counts_agree_with_pegasus_analyzer(name: str) -> None:
    root = next(iter(iter_pegasus_runs(FIXTURES / name)))
    c = run_counts(root.status)
    assert (c.total, c.succeeded, c.failed, c.held, c.unsubmitted) == ANALYZER[name]


def test_failed_job_state_exit_code_and_stdout() -> None:
    run = next(iter(iter_pegasus_runs(FIXTURES / "process_wf_failure")))
    failed = run.status.index[run.status["outcome"] == "failed"].tolist()
    assert failed == ["ls_ID0000001"]
    st = run.job("ls_ID0000001").status
    assert st is not None
    assert (st.state, st.exit_code, st.retries, st.problem) == ("POST_SCRIPT_FAILED", 2, 1, "failure")
    assert "/bin/ls: invalid option -- 'z'" in st.stdout_tail
    assert "User task failed with exitcode 2" in st.stderr_tail
    assert st.kickstart_status == 512


def test_hierarchical_failure_names_the_failed_sub_workflow() -> None:
    run = next(iter(iter_pegasus_runs(FIXTURES / "hierarchical_wf_failure")))
    assert run.status.index[run.status["outcome"] == "failed"].tolist() == [
        "pegasus-plan_diamond_subworkflow"
    ]
    st = run.status_of("pegasus-plan_diamond_subworkflow")
    assert st is not None and st.state == "PRE_SCRIPT_FAILED" and st.exit_code == 2


def test_held_job() -> None:
    run = next(iter(iter_pegasus_runs(FIXTURES / "sample_wf_held")))
    st = run.status_of("chebi_drug_loader_ID0000001")
    assert st is not None and st.held and st.problem == "held"
    assert st.held_reason and "Transfer output files failure" in st.held_reason
    # host_id is NULL for this try: an unknown host, not a crash
    assert run.frame.at["chebi_drug_loader_ID0000001", "kickstart_hostname"] == "unknown"


def test_hierarchical_success_is_two_linked_runs() -> None:
    runs = list(iter_pegasus_runs(FIXTURES / "hierarchical_wf_success"))
    assert [(r.workflow, len(r)) for r in runs] == [("hierarchical-workflow", 13), ("blackdiamond", 15)]
    assert runs[0].parent_run is None and runs[1].parent_run == runs[0].run_id
    assert sum(len(r) for r in runs) == 28
    # the sub-workflow's kickstart records live in its own submit directory
    assert runs[1].frame["kickstart_usage_utime"].notna().sum() >= 10


def test_flowbench_columns_from_states() -> None:
    run = next(iter(iter_pegasus_runs(FIXTURES / "process_wf_success")))
    f = run.frame.loc["create_dir_process_0_local"]
    # from the DB: WORKFLOW_STARTED ... SUBMIT, EXECUTE, JOB_SUCCESS, POST_SCRIPT_* of this job
    assert f["ready"] == run.frame["ready"].min()
    assert f["wms_delay"] == f["submit"] - f["ready"]
    assert f["queue_delay"] == f["execute_start"] - f["submit"]
    assert f["runtime"] == f["execute_end"] - f["execute_start"]
    assert f["post_script_delay"] == f["post_script_end"] - f["post_script_start"]
    assert f["type"] == "auxiliary" and f["kickstart_transformations"] == "pegasus::dirmanager"
    ls = run.frame.loc["ls_ID0000001"]
    assert ls["ready"] == run.frame.at["create_dir_process_0_local", "post_script_end"]
    assert ls["kickstart_executables_cpu_time"] == pytest.approx(
        ls["kickstart_usage_utime"] + ls["kickstart_usage_stime"]
    )


@pytest.mark.parametrize("name", ["process_wf_failure", "sample_wf_held"])
def test_three_inputs_give_the_same_runs(name: str) -> None:
    d = FIXTURES / name
    db = next(d.glob("*.stampede.db"))
    by_dir = next(iter(iter_pegasus_runs(d)))
    by_file = next(iter(iter_pegasus_runs(db)))
    by_url = next(iter(iter_pegasus_runs(f"sqlite:///{db}")))
    for other in (by_file, by_url):
        assert other.run_id == by_dir.run_id and other.workflow == by_dir.workflow
        cols = ["wms_delay", "queue_delay", "runtime", "kickstart_executables_cpu_time"]
        assert other.frame[cols].equals(by_dir.frame[cols])
        assert other.status["outcome"].equals(by_dir.status["outcome"])


@pytest.mark.parametrize("name", sorted(ANALYZER))
def test_jobstate_log_fallback_agrees(name: str, writable_copy) -> None:
    d = writable_copy(name)
    for db in d.glob("*.stampede.db"):
        db.unlink()
    run = next(iter(iter_pegasus_runs(d)))
    c = run_counts(run.status)
    assert (c.total, c.succeeded, c.failed, c.held, c.unsubmitted) == ANALYZER[name]


def _digest(d: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def test_reading_writes_nothing(writable_copy) -> None:
    d = writable_copy("process_wf_failure")
    before = _digest(d)
    list(iter_pegasus_runs(d))
    assert _digest(d) == before
    assert not list(d.glob("*-journal")) and not list(d.glob("*-wal"))
