"""Run the investigation graph for one job of a run."""

from __future__ import annotations

from flowsleuth.agent.deps import Deps
from flowsleuth.agent.graph import graph
from flowsleuth.agent.verdict import Verdict

_RECURSION_LIMIT = 64


def investigate(deps: Deps, job_id: str) -> Verdict:
    """Investigate one job of ``deps.subject.run``; raises UnknownJobError for a wrong id."""
    if deps.llm is not None:
        deps.llm.begin()  # one LLM deadline for this explanation (a guarded backend keeps it)
    out = graph.invoke({"job_id": job_id}, context=deps, config={"recursion_limit": _RECURSION_LIMIT})
    verdict: Verdict = out["verdict"]
    return verdict
