"""A plainly composed explanation from the evidence alone, for when no LLM is used."""

from __future__ import annotations

from collections.abc import Sequence

from agent.decide import Decision
from tools.base import ToolResult, ToolStatus


def plain_explanation(
    job_id: str, host: str, decision: Decision, results: Sequence[ToolResult]
) -> tuple[str, str]:
    """(explanation, reasoning) built only from tool summaries and the fused decision."""
    if decision.score is None:
        return (
            f"No scorer could assess job {job_id}: no model or index is available, so it is not flagged.",
            "No score source returned a result.",
        )
    head = (
        f"Job {job_id} on host {host} looks anomalous (class {decision.anomaly_class}, score "
        f"{decision.score:.2f}, {decision.confidence} confidence)."
        if decision.is_anomalous
        else f"Job {job_id} on host {host} looks normal "
        f"(score {decision.score:.2f}, {decision.confidence} confidence)."
    )
    lines = [r.summary for r in results if r.status is ToolStatus.OK and r.summary]
    hedge = (
        " The sources disagree, so treat this as a lead, not a finding."
        if decision.confidence == "low"
        else ""
    )
    evidence = " Evidence: " + "; ".join(line.rstrip(".") for line in lines[:3]) + "." if lines else ""
    explanation = head + hedge + evidence
    reasoning = "\n".join(f"- {r.tool}: {r.summary or r.status}" for r in results)
    return explanation, reasoning
