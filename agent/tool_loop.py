"""The agentic tool loop, LangGraph's way: the LLM asks (``ask``), ``ToolNode`` runs the
registered tools it asked for (``tools``), ``tools_condition`` routes, and a thin node
(``collect``) turns the tool messages into results for the verdict.

The step budget is state: ``steps`` (tool rounds taken, bounded by ``Deps.max_steps``) and
LangGraph's managed ``remaining_steps`` (the recursion limit left), so the loop always leaves
room for the nodes that write the verdict.
"""

from __future__ import annotations

from typing import Any, Literal

from flowsleuth.agent.deps import Deps
from flowsleuth.agent.prompts import SYSTEM
from flowsleuth.agent.state import InvestigationState
from flowsleuth.workflows.contract import ToolResult
from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import StructuredTool
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, ValidationError

# Nodes still to run after the loop: fuse, reason, verdict, validate, and one regeneration.
RESERVED_STEPS = 8


class JobArgs(BaseModel):
    """What the LLM may ask a tool for."""

    job_id: str | None = Field(
        default=None,
        description="DAG node id of the job to look at; leave out for the job under investigation",
    )


def lc_tools(deps: Deps, default_job: str) -> list[StructuredTool]:
    """Every registered tool as a LangChain tool over this run: its docstring is the
    description, its ``args_schema`` (default :class:`JobArgs`) the typed parameters."""

    def make(name: str, description: str, schema: type[BaseModel]) -> StructuredTool:
        def call(**kwargs: object) -> str:
            job = str(kwargs.pop("job_id", None) or default_job)
            args = {k: v for k, v in kwargs.items() if v is not None}
            # A score source already answered for every job of the run: reuse that answer.
            result = None if args else deps.scores.job_result(name, job)
            if result is None:
                result = deps.registry.run(name, deps.subject.for_job(job, **args))
            return result.model_dump_json()

        return StructuredTool.from_function(
            call, name=name, description=description or name, args_schema=schema
        )

    return [make(t.name, t.description, t.args_schema or JobArgs) for t in deps.registry.tools()]


def _budget_left(state: InvestigationState, deps: Deps) -> bool:
    return state.get("steps", 0) < deps.max_steps and state.get("remaining_steps", 0) > RESERVED_STEPS


def ask(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """The LLM sees the evidence so far and may call registered tools, within the budget."""
    deps = runtime.context
    if deps.llm is None or not _budget_left(state, deps):
        return {}
    new: list[Any] = []
    if not state.get("messages"):
        seen = ", ".join(sorted({r.tool for r in state.get("results", [])}))
        new.append(SystemMessage(SYSTEM))
        new.append(
            HumanMessage(
                f"Investigate job {state['job_id']}. Already run: {seen}. "
                "Call a tool only if it adds evidence; otherwise answer 'done'."
            )
        )
    try:
        reply = deps.llm.call_tools([*state.get("messages", []), *new], lc_tools(deps, state["job_id"]))
    except Exception as err:  # the loop is optional evidence; the verdict goes on without it
        return {"messages": new, "llm_error": f"tool loop: {type(err).__name__}: {err}"}
    return {"messages": [*new, reply]}


def route(state: InvestigationState) -> Literal["tools", "fuse"]:
    """``tools_condition``: to the tools when the last message asks for some, else on."""
    return "tools" if state.get("messages") and tools_condition(dict(state)) == "tools" else "fuse"


def tools(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """``ToolNode`` over this run's registered tools (plugins included, so built per run)."""
    node = ToolNode(lc_tools(runtime.context, state["job_id"]), handle_tool_errors=True)
    out: dict[str, Any] = node.invoke({"messages": state["messages"]})
    return out


def collect(state: InvestigationState) -> dict[str, Any]:
    """The last round's tool messages as results; one more step of the budget spent."""
    results: list[ToolResult] = []
    for msg in reversed(state.get("messages", [])):
        if not isinstance(msg, ToolMessage):
            break
        try:
            results.append(ToolResult.model_validate_json(str(msg.content)))
        except ValidationError:  # an unknown tool or bad arguments: ToolNode's error text
            continue
    return {"results": results[::-1], "steps": state.get("steps", 0) + 1}
