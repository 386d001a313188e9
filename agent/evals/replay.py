"""A tool registry that answers from recorded results: a case replays without models.

It is a real :class:`~flowsleuth.tools.registry.Registry`, so a case goes through the same
scoring path (``score_run``, ``decide``) and tool loop as a live investigation."""

from __future__ import annotations

from flowsleuth.agent.evals.case import RecordedResult
from flowsleuth.tools.registry import Registry
from flowsleuth.workflows.contract import Subject, ToolResult


def replay_registry(recorded: list[RecordedResult]) -> Registry:
    """Each recorded result as a tool of its recorded kind that returns it for any job."""
    registry = Registry()
    for r in recorded:

        def answer(subject: Subject, result: ToolResult = r.result) -> ToolResult:
            return result

        answer.__doc__ = f"The recorded result of {r.result.tool}."
        registry.register(answer, name=r.result.tool, source="replay", kind=r.kind, replace=True)
    return registry
