"""A tool registry that answers from recorded results: a case replays without models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowsleuth.agent.evals.case import RecordedResult
from flowsleuth.workflows.contract import Subject, ToolResult


@dataclass(frozen=True)
class RecordedTool:
    name: str
    kind: str
    description: str = "a recorded tool result"


class ReplayRegistry:
    """``run_all`` / ``run`` / ``tools`` over recorded results (the agent's ToolRunner)."""

    def __init__(self, recorded: list[RecordedResult]) -> None:
        self.recorded = recorded

    def run_all(self, subject: Subject, kinds: tuple[str, ...] = ()) -> list[ToolResult]:
        return [r.result for r in self.recorded if not kinds or r.kind in kinds]

    def run(self, name: str, subject: Subject, timeout_s: float | None = None) -> ToolResult:
        for r in self.recorded:
            if r.result.tool == name:
                return r.result
        return ToolResult.failed(name, "not recorded in this eval case")

    def tools(self) -> list[Any]:
        return [RecordedTool(r.result.tool, r.kind) for r in self.recorded]
