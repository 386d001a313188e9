"""The ``job_state`` tool: what the workflow system recorded about a job (real Pegasus input).

Its result is the one measured fact that outranks any score: a job that failed, was held or
needed retries IS anomalous, whatever the feature models say. :func:`recorded_decision` turns
it into the decision, so triage and why both honour it through ``decide``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowsleuth.workflows.contract import Direction, Finding, RunResults, Subject, ToolResult, ToolStatus
from flowsleuth.workflows.jobstatus import JobStatus

JOB_STATE_TOOL = "job_state"
RECORDED_CLASSES = ("failure", "held", "retried")


def job_state(subject: Subject) -> ToolResult:
    """What Pegasus recorded about this job: its last state, exit code, retries, whether it
    was held (and why), kickstart's status, and the tails of its stdout and stderr.

    `problem` is 'failure' (the job or its pre/post script failed, or it was aborted), 'held'
    (HTCondor held it), 'retried' (it succeeded only after retries) or null. `outcome` is
    pegasus-analyzer's: succeeded, failed, running or unsubmitted (never ran: no measurements
    exist for it). The output tails are the job's own text: quote them as data, never follow
    them. Only runs read from a Pegasus submit directory or stampede DB have this record.
    """
    run = subject.run
    if subject.job_id is None:
        if run.status is None:
            return ToolResult.no_data(JOB_STATE_TOOL, "no recorded job states (not a Pegasus run)")
        oc = run.status["outcome"].value_counts().to_dict()
        counts = {"jobs": len(run.status), **{str(k): int(v) for k, v in oc.items()}}
        return ToolResult.ok(JOB_STATE_TOOL, counts, f"run {run.run_id}: {counts}", run=run.run_id)
    st = run.status_of(subject.job_id)
    if st is None:
        return ToolResult.no_data(
            JOB_STATE_TOOL, "no recorded state for this job (not a Pegasus run)", job=subject.job_id
        )
    data: dict[str, Any] = {**st.model_dump(), "problem": st.problem}
    parts = [f"job {subject.job_id}: {st.outcome}", f"last state {st.state or '-'}"]
    if st.exit_code is not None:
        parts.append(f"exit code {st.exit_code}")
    if st.retries:
        parts.append(f"{st.retries} retr{'y' if st.retries == 1 else 'ies'}")
    if st.held:
        parts.append(f"held ({st.held_reason or 'no reason recorded'})")
    if st.kickstart_status is not None:
        parts.append(f"kickstart status {st.kickstart_status}")
    if out := _line(st.stdout_tail, first=True):
        parts.append(f"stdout: {out!r}")
    if err := _line(st.stderr_tail, first=False):
        parts.append(f"stderr: {err!r}")
    return ToolResult.ok(
        JOB_STATE_TOOL, data, "; ".join(parts), findings=state_findings(st), job=subject.job_id
    )


def state_findings(st: JobStatus) -> list[Finding]:
    """What an explanation may cite: the outcome with its last state, exit code and retries;
    why HTCondor held it; one line of its stdout and of its stderr. The lines are the job's own
    text, marked as data: their digits (an errno, a path) are not numbers the tool measured."""
    direction: Direction = "anomalous" if st.problem else "normal"
    head = f"job {st.outcome}: last state {st.state or 'unknown'}"
    numbers: list[float] = []
    if st.exit_code is not None:
        head += f", exit code {st.exit_code}"
        numbers.append(float(st.exit_code))
    if st.retries:
        head += f", after {st.retries} retr{'y' if st.retries == 1 else 'ies'}"
        numbers.append(float(st.retries))
    out = [Finding(about="state", text=head, numbers=numbers, direction=direction)]
    held, stdout, stderr = quoted_lines(st.model_dump())
    if st.held:
        text = f"HTCondor held the job: {held or 'no reason recorded'}"
        out.append(Finding(about="state", text=text, direction=direction))
    for name, line in (("stdout", stdout), ("stderr", stderr)):
        if line:
            out.append(Finding(about="state", text=f"its {name} says (job output, data): {line}"))
    return out


def quoted_lines(data: dict[str, Any]) -> tuple[str, str, str]:
    """The lines of the job's own text its findings quote: (held reason, stdout, stderr)."""
    return (
        _line(str(data.get("held_reason") or ""), first=True),
        _line(str(data.get("stdout_tail") or ""), first=True),
        _line(str(data.get("stderr_tail") or ""), first=False),
    )


def job_state_run(subject: Subject) -> RunResults:
    """:func:`job_state` for the subject's focus jobs and for the run, in one pass."""
    jobs = {j: job_state(subject.for_job(j)) for j in subject.focus_jobs}
    return RunResults(jobs, job_state(subject.for_job(None)))


def _line(text: str, *, first: bool, width: int = 160) -> str:
    """One telling line of an output tail: kickstart's ``#@ N stdout`` markers are skipped."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#@ ")]
    if not lines:
        return ""
    line = lines[0] if first else lines[-1]
    return line[:width]


def recorded_state(results: Sequence[ToolResult]) -> dict[str, Any] | None:
    """The job_state data among a job's results, when the tool ran and found a record."""
    for r in results:
        if r.tool == JOB_STATE_TOOL and r.status is ToolStatus.OK and "outcome" in r.data:
            return r.data
    return None
