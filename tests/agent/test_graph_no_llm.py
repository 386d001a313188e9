"""The graph with no LLM: the verdict comes from the tools alone, with a plain explanation."""

from __future__ import annotations

import pytest
from flowsleuth.agent.deps import Deps
from flowsleuth.agent.investigate import investigate
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.models import UnknownJobError


def _slowest_job(run) -> str:
    return str(run.frame["runtime"].idxmax())


def test_verdict_from_tools_without_llm(hdd_run, registry) -> None:
    deps = Deps.build(Subject(hdd_run), registry, llm=None)
    job = _slowest_job(hdd_run)
    v = investigate(deps, job)
    assert v.job_id == job
    assert v.backend.llm_used is False
    assert "no LLM" in (v.backend.reason or "")
    assert v.score is not None and 0 <= v.score <= 1
    assert v.is_anomalous == (v.score >= 0.5)
    assert {e.tool for e in v.evidence} == {"ratio_score", "host_hint"}
    assert job in v.explanation
    assert ("ratio_score", job) in registry.calls and ("host_hint", job) in registry.calls


def test_no_score_source_is_honestly_not_flagged(hdd_run, registry) -> None:
    for tool in registry.tools():
        registry.unregister(tool.name)
    deps = Deps.build(Subject(hdd_run), registry, llm=None)
    v = investigate(deps, hdd_run.job_ids[0])
    assert v.score is None
    assert v.is_anomalous is False
    assert v.confidence == "low"
    assert "No scorer" in v.explanation


def test_unknown_job_is_a_clear_error(hdd_run, registry) -> None:
    deps = Deps.build(Subject(hdd_run), registry)
    with pytest.raises(UnknownJobError, match="no job 'nope'"):
        investigate(deps, "nope")
