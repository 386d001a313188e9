"""The kNN vote: what the most similar labelled jobs of other runs say about a job."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flowsleuth.retrieval.index import JobIndex, Neighbour
from flowsleuth.retrieval.query import embedder_for, job_vector, run_neighbours
from flowsleuth.workflows.contract import Finding, RunResults, ServiceKey, Subject, ToolResult
from flowsleuth.workflows.errors import FlowsleuthError
from pydantic import BaseModel, Field

DEFAULT_K = 10
THRESHOLD = 0.5
# Distances of near-identical sentences are ~0; the floor keeps one duplicate from outvoting all.
DISTANCE_FLOOR = 0.01
TOOL = "knn_vote"
INDEX: ServiceKey[JobIndex] = ServiceKey("index")
"""The job index the kNN vote and the few-shot selection query."""
KNN_K: ServiceKey[int] = ServiceKey("knn_k")
"""Neighbours per vote (default :data:`DEFAULT_K`)."""


class KnnVote(BaseModel):
    """A distance-weighted vote of neighbours (weights 1 / (distance + floor))."""

    score: float = Field(description="weighted share of anomalous neighbours, 0..1")
    anomalous: bool = Field(description="score >= threshold")
    predicted_class: str = Field(description="normal, cpu or hdd: the heaviest class")
    class_weights: dict[str, float] = Field(description="share of the total weight per class")
    k: int = Field(description="neighbours that voted")
    nearest_distance: float


def vote(neighbours: Sequence[Neighbour], threshold: float = THRESHOLD) -> KnnVote | None:
    """The vote of ``neighbours``, or None when there are none."""
    if not neighbours:
        return None
    weights = [1.0 / (max(n.distance, 0.0) + DISTANCE_FLOOR) for n in neighbours]
    total = sum(weights)
    by_class: dict[str, float] = {}
    for n, w in zip(neighbours, weights, strict=True):
        by_class[n.cls] = by_class.get(n.cls, 0.0) + w / total
    score = sum(w for n, w in zip(neighbours, weights, strict=True) if n.anomalous) / total
    anomalous = score >= threshold
    # the class follows the binary decision, so the two never disagree
    pool = {c: v for c, v in by_class.items() if (c != "normal") == anomalous}
    predicted = max(pool, key=lambda c: pool[c]) if pool else "normal"
    return KnnVote(
        score=round(score, 4),
        anomalous=anomalous,
        predicted_class=predicted,
        class_weights={c: round(v, 4) for c, v in sorted(by_class.items())},
        k=len(neighbours),
        nearest_distance=round(min(n.distance for n in neighbours), 4),
    )


def vote_run(index: JobIndex, subject: Subject, k: int = DEFAULT_K) -> dict[str, KnnVote | None]:
    """The vote for every job of the subject's run, in one batched query (for triage)."""
    return {job: vote(ns) for job, ns in run_neighbours(index, subject, k).items()}


def knn_vote(subject: Subject) -> ToolResult:
    """Ask the most similar labelled jobs from OTHER runs of the same workflow (k nearest
    neighbours in the job index) whether this job is anomalous.

    Returns data.score (0..1: distance-weighted share of anomalous neighbours), data.anomalous
    (score >= 0.5), data.predicted_class (normal, cpu or hdd), data.class_weights (weight share
    per class), data.k (neighbours that voted), data.nearest_distance (cosine distance of the
    closest one; near 0 means an almost identical job was seen before) and data.neighbours
    (run, job, label and distance of each). Status no_data "no neighbours" when this workflow has
    no labelled jobs in the index: then the vote says nothing, neither normal nor anomalous.
    Similar-looking jobs can carry different labels, so treat this as one piece of evidence.
    """
    inv: dict[str, Any] = {"run": subject.run.run_id, "job": subject.job_id}
    if subject.job_id is None:
        return ToolResult.failed(TOOL, "knn_vote needs a job, not a whole run", **inv)
    index = subject.services.get(INDEX)
    if index is None:
        return ToolResult.no_data(TOOL, "no neighbours: no job index is configured", **inv)
    try:
        vector = job_vector(index, subject)[None, :]
        found = index.query(
            subject.run.workflow,
            vector,
            _k(subject),
            exclude_run=subject.run.run_id,
            embedder=embedder_for(index, subject),
            with_text=False,
        )[0]
    except FlowsleuthError as err:
        return ToolResult.failed(TOOL, str(err), **inv)
    return _result(subject, subject.job_id, found)


def knn_vote_run(subject: Subject) -> RunResults:
    """:func:`knn_vote` for every job of the run: one embedding batch, one batched query."""
    run = subject.run
    index = subject.services.get(INDEX)
    if index is None:
        none = ToolResult.no_data(TOOL, "no neighbours: no job index is configured", run=run.run_id)
        return RunResults(dict.fromkeys(subject.focus_jobs, none))
    try:
        found = run_neighbours(index, subject, _k(subject))
    except FlowsleuthError as err:
        failed = ToolResult.failed(TOOL, str(err), run=run.run_id)
        return RunResults(dict.fromkeys(subject.focus_jobs, failed), failed)
    return RunResults({j: _result(subject, j, found.get(j, [])) for j in subject.focus_jobs})


def _k(subject: Subject) -> int:
    k = subject.services.get(KNN_K)
    return DEFAULT_K if k is None else int(k)


def _result(subject: Subject, job_id: str, found: Sequence[Neighbour]) -> ToolResult:
    inv: dict[str, Any] = {"run": subject.run.run_id, "job": job_id}
    result = vote(found)
    if result is None:
        return ToolResult.no_data(
            TOOL,
            f"no neighbours: workflow {subject.run.workflow!r} has no labelled jobs of other runs "
            "in the index",
            **inv,
        )
    data = result.model_dump()
    data["neighbours"] = [
        {"run": n.run, "job": n.job, "label": n.label, "distance": round(n.distance, 4)} for n in found
    ]
    verdict = "anomalous" if result.anomalous else "normal"
    summary = (
        f"{result.k} nearest labelled jobs vote {verdict} (score {result.score:.2f}, "
        f"class {result.predicted_class}, nearest distance {result.nearest_distance:.3f})"
    )
    finding = Finding(
        about="neighbours",
        text=f"{result.k} nearest labelled jobs of other runs vote {verdict} (score {result.score:.2f})",
        numbers=[float(result.k), round(result.score, 2)],
        direction="anomalous" if result.anomalous else "normal",
    )
    return ToolResult.ok(TOOL, data, summary, findings=[finding], **inv)


def register_tools(register: Callable[..., object]) -> None:
    """The kNN vote, through the same ``flowsleuth.tools`` hook a plugin offers."""
    register(knn_vote, name=TOOL, kind="retrieval", batch=knn_vote_run)
