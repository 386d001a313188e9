"""Query vectors for the jobs a tool looks at, computed once per run and cached on the Subject."""

from __future__ import annotations

import numpy as np
from flowsleuth.retrieval.documents import PAPER_TEMPLATE, job_text, run_texts
from flowsleuth.retrieval.embedder import Embedder
from flowsleuth.retrieval.errors import JobIndexError
from flowsleuth.retrieval.index import JobIndex, Neighbour
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.models import Job


def embedder_for(index: JobIndex, subject: Subject | None = None) -> Embedder:
    """``subject.extras["embedder"]`` when set, else the index's embedder."""
    if subject is not None and subject.extras.get("embedder") is not None:
        emb: Embedder = subject.extras["embedder"]
        return emb
    return index.embedder


def run_vectors(index: JobIndex, subject: Subject) -> tuple[list[str], np.ndarray]:
    """(job ids, vectors) of every job of the subject's run, embedded in one batch and cached in
    ``subject.extras`` (shared by :meth:`Subject.for_job`), so triaging a run embeds it once."""
    emb = embedder_for(index, subject)
    key = f"retrieval.vectors:{subject.run.run_id}:{index.template}:{emb.name}"
    cached = subject.extras.get(key)
    if cached is None:
        context = subject.context if index.template != PAPER_TEMPLATE else None
        texts = run_texts(subject.run, index.template, context)
        cached = ([str(i) for i in texts.index], emb.embed(texts.tolist()))
        subject.extras[key] = cached
    ids, vectors = cached
    return ids, vectors


def job_vector(index: JobIndex, target: Subject | Job) -> np.ndarray:
    """The query vector of one job: from its run when a Subject is given; a bare Job only has
    its own features, which is enough for the paper template alone."""
    if isinstance(target, Subject):
        ids, vectors = run_vectors(index, target)
        return vectors[ids.index(str(target.job_id))]
    if index.template != PAPER_TEMPLATE:
        raise JobIndexError(
            f"the {index.template} template needs the job's whole run; pass a Subject, not a Job"
        )
    return embedder_for(index).embed([job_text(target.features)])[0]


def run_neighbours(index: JobIndex, subject: Subject, k: int) -> dict[str, list[Neighbour]]:
    """The ``k`` nearest labelled jobs of every job of the run, never from the run itself."""
    ids, vectors = run_vectors(index, subject)
    result = index.query(
        subject.run.workflow,
        vectors,
        k,
        exclude_run=subject.run.run_id,
        embedder=embedder_for(index, subject),
        with_text=False,
    )
    return dict(zip(ids, result, strict=True))
