"""The graph with no LLM: the verdict comes from the tools alone, with a plain explanation."""

from __future__ import annotations

import pytest
from flowsleuth.agent.deps import Deps
from flowsleuth.agent.investigate import investigate, investigate_many, sqlite_checkpointer
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.models import UnknownJobError


def _slowest_job(run) -> str:
    return str(run.frame["runtime"].idxmax())


def test_verdict_from_tools_without_llm(hdd_run, registry) -> None:
    deps = Deps(subject=Subject(hdd_run), registry=registry, llm=None)
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
    registry.items.clear()
    deps = Deps(subject=Subject(hdd_run), registry=registry, llm=None)
    v = investigate(deps, hdd_run.job_ids[0])
    assert v.score is None
    assert v.is_anomalous is False
    assert v.confidence == "low"
    assert "No scorer" in v.explanation


def test_unknown_job_is_a_clear_error(hdd_run, registry) -> None:
    deps = Deps(subject=Subject(hdd_run), registry=registry)
    with pytest.raises(UnknownJobError, match="no job 'nope'"):
        investigate(deps, "nope")


def test_batch_resumes_from_checkpoints(tmp_path, hdd_run, registry) -> None:
    deps = Deps(subject=Subject(hdd_run), registry=registry)
    jobs = hdd_run.job_ids[:4]
    db = tmp_path / "ckpt.sqlite"
    with sqlite_checkpointer(db) as saver:
        first = list(investigate_many(deps, jobs[:2], saver))
    assert [resumed for _, resumed in first] == [False, False]
    n_calls = len(registry.calls)
    with sqlite_checkpointer(db) as saver:
        second = list(investigate_many(deps, jobs, saver))
    assert [resumed for _, resumed in second] == [True, True, False, False]
    assert [v.job_id for v, _ in second] == jobs
    assert second[0][0] == first[0][0]
    # Finished jobs were not re-scored: only the two new jobs called tools.
    assert len(registry.calls) == n_calls + 2 * 2
