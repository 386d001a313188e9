"""Dynamic few-shot examples for one job: similar labelled jobs from *other* runs.

Selection: candidates of the same transformation come first (then any transformation), by
distance; picks alternate between normal and anomalous so both appear when the index has both.
"""

from __future__ import annotations

from flowsleuth.retrieval.index import JobIndex, Neighbour
from flowsleuth.retrieval.query import embedder_for, job_vector
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.models import Job
from pydantic import BaseModel, Field

DEFAULT_SHOTS = 4


class FewShotExample(BaseModel):
    """One labelled job to show the model, compact enough for a prompt."""

    text: str = Field(description="the embedded sentence of the example job")
    label: str = Field(description="raw label: None, cpu_K or hdd_K")
    cls: str = Field(description="normal, cpu or hdd")
    anomalous: bool
    distance: float = Field(description="cosine distance to the job being explained")
    run: str
    job: str
    transformation: str
    host: str
    same_transformation: bool

    def prompt_line(self) -> str:
        verdict = "anomalous" if self.anomalous else "normal"
        return f"{self.text.strip()} -> {verdict} ({self.label})"


Cand = tuple[bool, Neighbour]  # (same transformation, neighbour)


def _rank(c: Cand) -> tuple[bool, float]:
    return (not c[0], c[1].distance)


def _balanced(cands: list[Cand], k: int) -> list[Cand]:
    """Alternate normal / anomalous picks (the group with fewer picks first, ties by rank)."""
    groups = {g: sorted((c for c in cands if c[1].anomalous == g), key=_rank) for g in (False, True)}
    picked: list[Cand] = []
    taken = {False: 0, True: 0}
    while len(picked) < k and (groups[False] or groups[True]):
        live = [g for g in (False, True) if groups[g]]
        g = min(live, key=lambda g: (taken[g], _rank(groups[g][0])))
        picked.append(groups[g].pop(0))
        taken[g] += 1
    return sorted(picked, key=_rank)


def select_few_shot(index: JobIndex, target: Subject | Job, k: int = DEFAULT_SHOTS) -> list[FewShotExample]:
    """Up to ``k`` labelled examples for ``target`` (a Subject focused on a job, or a Job),
    never from its own run. Empty when the workflow is not indexed: the caller goes on."""
    job = target.job if isinstance(target, Subject) else target
    vector = job_vector(index, target)[None, :]
    emb = embedder_for(index, target if isinstance(target, Subject) else None)
    pool = max(3 * k, 12)

    def ask(where: dict[str, object] | None, n: int) -> list[Neighbour]:
        return index.query(job.workflow, vector, n, exclude_run=job.run_id, where=where, embedder=emb)[0]

    found: dict[tuple[str, str], Neighbour] = {}
    for n in ask({"transformation": job.transformation}, pool) + ask(None, pool):
        found.setdefault((n.run, n.job), n)
    for anomalous in (False, True):  # make sure both kinds are represented when they exist
        if not any(n.anomalous == anomalous for n in found.values()):
            for n in ask({"anomalous": anomalous}, max(1, k // 2)):
                found.setdefault((n.run, n.job), n)
    cands = [(n.transformation == job.transformation, n) for n in found.values()]
    chosen = _balanced(cands, k)
    return [
        FewShotExample(
            text=n.text,
            label=n.label,
            cls=n.cls,
            anomalous=n.anomalous,
            distance=round(n.distance, 4),
            run=n.run,
            job=n.job,
            transformation=n.transformation,
            host=n.host,
            same_transformation=same,
        )
        for same, n in chosen
    ]
