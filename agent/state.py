"""Graph state: a narrow input (what a caller passes) and the full state nodes fill in.

Everything here is serialisable (a LangGraph checkpointer could store it); the run itself, its
scores, the models, the index and the LLM live in :class:`agent.deps.Deps` (LangGraph runtime
context).
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from flowsleuth.agent.verdict import BriefNarrative, Narrative, Verdict
from flowsleuth.workflows.contract import ToolResult
from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from langgraph.managed import RemainingSteps


class InvestigationInput(TypedDict):
    """What a caller passes: the job to investigate (the run is in the runtime context)."""

    job_id: str


class InvestigationState(InvestigationInput, total=False):
    """The full state. Lists are appended to by reducers, never assigned default ``[]``."""

    job: dict[str, Any]
    """The job's fields (pydantic ``Job`` dump), for prompts and the verdict."""
    examples: list[dict[str, Any]]
    """Few-shot examples: similar labelled jobs from *other* runs, compact."""
    results: Annotated[list[ToolResult], operator.add]
    """Every tool result gathered so far: scores, retrieval, hints, and LLM-requested tools."""
    messages: Annotated[list[AnyMessage], add_messages]
    """The agentic tool loop's conversation (only when the backend supports tool calling)."""
    steps: int
    """Tool-loop rounds taken, bounded by ``Deps.max_steps``."""
    remaining_steps: RemainingSteps
    """LangGraph's managed budget: graph steps left before the recursion limit."""
    decision: dict[str, Any]
    """The fused, tool-computed decision: score, is_anomalous, class, culprit, confidence."""
    narrative: Narrative | BriefNarrative | None
    """What the LLM wrote (explanation, and reasoning unless the backend is compact), before
    validation."""
    llm_error: str | None
    """Why the LLM was not used, when it was not."""
    attempts: int
    """Narration attempts; validation asks for one regeneration at most."""
    rejected: list[str]
    """What the last narration claimed that no finding supports (problems, one per claim)."""
    drafts: Annotated[list[str], operator.add]
    """Each explanation the LLM wrote, before validation (for the eval's before/after rate)."""
    verdict: Verdict
