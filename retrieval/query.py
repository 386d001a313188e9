"""Query vectors for the jobs a tool looks at: a whole run in one batch, or one job."""

from __future__ import annotations

import numpy as np
import pandas as pd
from flowsleuth.retrieval.documents import PAPER_TEMPLATE, job_text, run_texts
from flowsleuth.retrieval.embedder import Embedder
from flowsleuth.retrieval.errors import JobIndexError
from flowsleuth.retrieval.index import JobIndex, Neighbour
from flowsleuth.workflows.contract import ServiceKey, Subject
from flowsleuth.workflows.models import Job

EMBEDDER: ServiceKey[Embedder] = ServiceKey("embedder")
"""An embedder to query with instead of the index's own (tests: a deterministic one)."""


def embedder_for(index: JobIndex, subject: Subject | None = None) -> Embedder:
    """The subject's :data:`EMBEDDER` service when set, else the index's embedder."""
    emb = subject.services.get(EMBEDDER) if subject is not None else None
    return emb if emb is not None else index.embedder


def _texts(index: JobIndex, subject: Subject) -> pd.Series:
    context = subject.context if index.template != PAPER_TEMPLATE else None
    return run_texts(subject.run, index.template, context)


def run_vectors(index: JobIndex, subject: Subject) -> tuple[list[str], np.ndarray]:
    """(job ids, vectors) of the subject's focus jobs (every job of a whole-run subject),
    embedded in one batch."""
    texts = _texts(index, subject).loc[subject.focus_jobs]
    return [str(i) for i in texts.index], embedder_for(index, subject).embed(texts.tolist())


def job_vector(index: JobIndex, target: Subject | Job) -> np.ndarray:
    """The query vector of one job: from its run when a Subject is given (its sentence may
    quote the run context); a bare Job only has its own features, which is enough for the
    paper template alone."""
    if isinstance(target, Subject):
        text = _texts(index, target).loc[str(target.job_id)]
        return embedder_for(index, target).embed([str(text)])[0]
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
