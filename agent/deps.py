"""What the graph's nodes use but the checkpointer must not store: the run, tools, models, LLM."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.workflows.contract import Subject, ToolResult

FewShot = Callable[[Subject, int], list[dict[str, Any]]]


class ToolRunner(Protocol):
    """The slice of the tool registry the agent needs."""

    def run_all(self, subject: Subject, kinds: tuple[str, ...] = ...) -> list[ToolResult]: ...

    def run(self, name: str, subject: Subject, timeout_s: float | None = ...) -> ToolResult: ...

    def tools(self) -> list[Any]: ...


@dataclass
class Deps:
    """LangGraph runtime context of one investigation (shared by every job of a run)."""

    subject: Subject
    registry: ToolRunner
    llm: Any | None = None  # agent.llm.LLMBackend; None means no LLM
    fusion: Fusion = field(default_factory=Fusion)
    few_shot: FewShot | None = None
    max_steps: int = 3
    n_examples: int = 4
    check_claims: bool = True  # sentence-level claim checking (agent.claims); off: numbers only
