"""A plainly composed explanation from the evidence alone, for when no LLM is used."""

from __future__ import annotations

from collections.abc import Sequence

from flowsleuth.tools.decision.decide import Decision
from flowsleuth.workflows.contract import ToolResult, ToolStatus


def headline(job_id: str, host: str, decision: Decision) -> str:
    """One sentence stating the tool-computed verdict; leads every explanation, LLM or not."""
    if decision.score is None:
        return f"No scorer could assess job {job_id}: no model or index is available, so it is not flagged."
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
    """(explanation, reasoning) built only from tool summaries and the fused decision."""
    if decision.score is None:
        return headline(job_id, host, decision), "No score source returned a result."
    lines = [r.summary for r in results if r.status is ToolStatus.OK and r.summary]
    evidence = " Evidence: " + "; ".join(line.rstrip(".") for line in lines[:3]) + "." if lines else ""
    reasoning = "\n".join(f"- {r.tool}: {r.summary or r.status}" for r in results)
    return headline(job_id, host, decision) + evidence, reasoning
