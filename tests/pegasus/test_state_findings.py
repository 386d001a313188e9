"""The job_state tool's typed findings: what an explanation of a failed, held or retried job
may cite, first among the findings, and checked by the claim validator like any other."""

from __future__ import annotations

from flowsleuth.agent.claims import ClaimContext, check_sentence
from flowsleuth.agent.evidence import numbered_findings
from flowsleuth.agent.prompts import compact_messages
from flowsleuth.tools.decision.decide import Decision
from flowsleuth.tools.job_state import job_state
from flowsleuth.workflows.contract import Finding, Subject, ToolResult
from flowsleuth.workflows.pegasus import iter_pegasus_runs

from .conftest import FIXTURES


def _state(name: str, job: str) -> ToolResult:
    run = next(iter(iter_pegasus_runs(FIXTURES / name)))
    return job_state(Subject(run, job))


def _peers(direction: str = "higher") -> ToolResult:
    f = Finding(
        about="peers", text="job runtime 1.95x the median of 9 ls jobs", numbers=[1.95], direction=direction
    )
    return ToolResult.ok("host_peers", {"ratio": 1.95}, "peers", findings=[f])


def test_failed_job_findings() -> None:
    texts = [
        (f.about, f.text, f.numbers, f.direction)
        for f in _state("process_wf_failure", "ls_ID0000001").findings
    ]
    assert texts[0] == (
        "state",
        "job failed: last state POST_SCRIPT_FAILED, exit code 2, after 1 retry",
        [2.0, 1.0],
        "anomalous",
    )
    # the job's own output is quoted as data: no numbers of its own, no direction
    assert texts[1] == (
        "state",
        "its stdout says (job output, data): /bin/ls: invalid option -- 'z'",
        [],
        None,
    )
    assert texts[2][1] == "its stderr says (job output, data): PegasusLite: exitcode 2"


def test_held_job_says_why() -> None:
    fs = _state("sample_wf_held", "chebi_drug_loader_ID0000001").findings
    assert fs[0].text.endswith("exit code -1") and fs[0].numbers == [-1.0]
    assert fs[1].text.startswith("HTCondor held the job: Transfer output files failure")
    assert fs[1].direction == "anomalous"


def test_recorded_problem_comes_first_a_clean_record_last() -> None:
    failed = numbered_findings([_peers(), _state("process_wf_failure", "ls_ID0000001")])
    assert [f.about for f in failed] == ["state", "state", "state", "peers"]
    assert failed[0].id == "F1" and "POST_SCRIPT_FAILED" in failed[0].text
    clean = numbered_findings([_state("process_wf_failure", "create_dir_process_0_local"), _peers()])
    assert [(f.about, f.direction) for f in clean] == [("peers", "higher"), ("state", "normal")]


def test_validator_holds_exit_codes_to_the_record() -> None:
    found = numbered_findings([_state("process_wf_failure", "ls_ID0000001")])
    extra = Finding(id="F9", about="diagnosis", text="run diagnosed None (p 0.05)", numbers=[0.05])
    ctx = ClaimContext(
        findings=[*found, extra], allowed=[2.0, 1.0, 0.05], identifiers=["/bin/ls: invalid option -- 'z'"]
    )
    ok = "Per F1, the job failed with last state POST_SCRIPT_FAILED and exit code 2, after 1 retry."
    assert check_sentence(ok, ctx).supported
    assert check_sentence("Per F2, its stdout says: /bin/ls: invalid option -- 'z'.", ctx).supported
    # a cited finding's number is not an exit code; a recorded failure is not "normal"
    assert not check_sentence("Per F9, the job failed with exit code 0.05.", ctx).supported
    assert not check_sentence("Per F1, the exit code 2 is normal.", ctx).supported


def test_without_a_record_the_state_is_a_tool_that_did_not_run() -> None:
    ctx = ClaimContext(findings=numbered_findings([_peers()]), allowed=[1.95, 2.0])
    problems = check_sentence("The job was held and its exit code was 2.", ctx).problems
    assert any("state, but that tool did not run" in p for p in problems)


def test_compact_prompt_of_a_recorded_failure() -> None:
    results = [_peers(), _state("process_wf_failure", "ls_ID0000001")]
    decision = Decision(
        is_anomalous=True,
        score=1.0,
        anomaly_class="failure",
        culprit=None,
        confidence="high",
        sources={"job_state": 1.0},
    )
    job = {"node_id": "ls_ID0000001", "transformation": "ls", "host": "h"}
    messages = compact_messages(job, decision, results)
    shot, asked = str(messages[2].content), str(messages[-1].content)
    assert "the job failed with last state" in shot  # the worked example of a recorded failure
    assert "F1: job failed: last state POST_SCRIPT_FAILED" in asked
    assert "F3: its stderr says" in asked and "F4" not in asked  # only the record is shown
