"""A plainly composed explanation from the evidence alone, for when no LLM is used."""

from __future__ import annotations

from collections.abc import Sequence

from flowsleuth.agent.evidence import numbered_findings
from flowsleuth.tools.decision.decide import Decision
from flowsleuth.workflows.contract import ToolResult, ToolStatus

_SHOWN = 4  # findings quoted in a plain explanation (the verdict lists them all)


def headline(job_id: str, host: str, decision: Decision) -> str:
    """One sentence stating the tool-computed verdict; leads every explanation, LLM or not."""
    if decision.score is None:
        return f"No scorer could assess job {job_id}: no model or index is available, so it is not flagged."
    if "job_state" in decision.sources and decision.is_anomalous:  # a recorded fact, not an estimate
        return (
            f"Job {job_id} on host {host} is anomalous: the workflow system recorded it as "
            f"'{decision.anomaly_class}' (a recorded fact, not a model estimate)."
        )
    verdict = f"anomalous (class {decision.anomaly_class}, " if decision.is_anomalous else "normal ("
    head = (
        f"Job {job_id} on host {host} looks {verdict}score {decision.score:.2f}, "
        f"{decision.confidence} confidence)."
    )
    if decision.confidence == "low":
        head += " The evidence is weak or the sources disagree: treat this as a lead, not a finding."
    return head


def plain_explanation(
    job_id: str, host: str, decision: Decision, results: Sequence[ToolResult]
) -> tuple[str, str]:
    """(explanation, reasoning) built only from the tools' findings, each cited, and summaries."""
    if decision.score is None:
        return headline(job_id, host, decision), "No score source returned a result."
    # what the workflow system recorded (job_state) leads: it is why the job is anomalous. Its
    # findings come first when it is (numbered_findings); a record without findings is quoted.
    recorded = [
        r.summary
        for r in results
        if r.tool == "job_state" and r.status is ToolStatus.OK and r.summary and not r.findings
    ]
    evidence = "".join(f" Recorded: {line.rstrip('.')}." for line in recorded)
    findings = numbered_findings(results)[:_SHOWN]
    evidence += "".join(f" {f.text[0].upper()}{f.text[1:]} [{f.id}]." for f in findings)
    reasoning = "\n".join(f"- {r.tool}: {r.summary or r.status}" for r in results)
    return headline(job_id, host, decision) + evidence, reasoning
