"""Run the investigation graph for one job, or resumably for many (SQLite checkpointer)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from flowsleuth.agent.deps import Deps
from flowsleuth.agent.graph import build_graph
from flowsleuth.agent.verdict import Verdict
from flowsleuth.workflows.errors import FlowsleuthError
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

_RECURSION_LIMIT = 64


@cache
def _compiled() -> CompiledStateGraph[Any, Any, Any, Any]:
    return build_graph().compile()


def _begin_explanation(deps: Deps) -> None:
    """Start the LLM's one deadline for this explanation (a guarded backend has ``begin``)."""
    begin = getattr(deps.llm, "begin", None)
    if callable(begin):
        begin()


def investigate(deps: Deps, job_id: str) -> Verdict:
    """Investigate one job of ``deps.subject.run``; raises UnknownJobError for a wrong id."""
    _begin_explanation(deps)
    out = _compiled().invoke({"job_id": job_id}, context=deps, config={"recursion_limit": _RECURSION_LIMIT})
    return out["verdict"]


@contextmanager
def sqlite_checkpointer(path: str | Path) -> Iterator[BaseCheckpointSaver[Any]]:
    """LangGraph's own SQLite checkpointer on ``path`` (created if missing)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False)
    except (OSError, sqlite3.Error) as err:
        raise FlowsleuthError(f"{path}: cannot open checkpoint database ({err})") from None
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def investigate_many(
    deps: Deps, job_ids: Iterable[str], checkpointer: BaseCheckpointSaver[Any]
) -> Iterator[tuple[Verdict, bool]]:
    """Investigate jobs one by one, yielding (verdict, resumed). A job whose thread already
    finished in ``checkpointer`` is not redone; an interrupted one restarts from its last step."""
    graph = build_graph().compile(checkpointer=checkpointer)
    run_id = deps.subject.run.run_id
    for job_id in job_ids:
        config: Any = {
            "configurable": {"thread_id": f"{run_id}/{job_id}"},
            "recursion_limit": _RECURSION_LIMIT,
        }
        snapshot = graph.get_state(config)
        if snapshot.values.get("verdict") is not None and not snapshot.next:
            yield snapshot.values["verdict"], True
            continue
        resume: Any = None if snapshot.next else {"job_id": job_id}
        _begin_explanation(deps)
        out = graph.invoke(resume, config=config, context=deps)
        yield out["verdict"], False
