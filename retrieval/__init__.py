"""Retrieval: embeddings, a Chroma index of labelled jobs, few-shot selection and a kNN vote.

Public API (what the agent and the CLI call)::

    from flowsleuth.retrieval import open_index, select_few_shot, knn_vote, default_embedder

    index = open_index(Path("idx"))             # the embedded index in a directory
    index = open_index(Path("idx"), create=True)  # ... created for writing
    index = open_index(chroma_url="http://127.0.0.1:8000")  # ... or a Chroma server
    index.add_runs(runs, embedder, progress=callback)   # idempotent upserts, labelled runs only
    index.remove_run("montage", "montage-run0889")
    index.stats()                               # IndexStats: jobs, runs, classes per collection
    select_few_shot(index, subject, k=4)        # list[FewShotExample], never from the job's run
    knn_vote(subject)                           # ToolResult; the index is the subject's INDEX service
    knn_vote_run(subject)                       # RunResults: every job of the run, one query
    default_embedder()                          # cached MiniLM, loaded on first use

Every failure a user can cause is a :class:`workflows.errors.FlowsleuthError` subclass
(:mod:`retrieval.errors`). chromadb and sentence-transformers are imported lazily, inside the
functions that need them, so importing this package is cheap.
"""

from flowsleuth.retrieval.documents import CONTEXT_TEMPLATE, PAPER_TEMPLATE, TEMPLATES
from flowsleuth.retrieval.embedder import Embedder, HashingEmbedder, MiniLMEmbedder, default_embedder
from flowsleuth.retrieval.errors import (
    EmbedderError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexUnavailableError,
    JobIndexError,
)
from flowsleuth.retrieval.fewshot import FewShotExample, select_few_shot
from flowsleuth.retrieval.index import JobIndex, open_index
from flowsleuth.retrieval.knn import INDEX, KNN_K, KnnVote, knn_vote, knn_vote_run, vote, vote_run
from flowsleuth.retrieval.models import AddReport, IndexStats, Neighbour
from flowsleuth.retrieval.query import EMBEDDER

__all__ = [
    "CONTEXT_TEMPLATE",
    "EMBEDDER",
    "INDEX",
    "KNN_K",
    "PAPER_TEMPLATE",
    "TEMPLATES",
    "AddReport",
    "Embedder",
    "EmbedderError",
    "FewShotExample",
    "HashingEmbedder",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexStats",
    "IndexUnavailableError",
    "JobIndex",
    "JobIndexError",
    "KnnVote",
    "MiniLMEmbedder",
    "Neighbour",
    "default_embedder",
    "knn_vote",
    "knn_vote_run",
    "open_index",
    "select_few_shot",
    "vote",
    "vote_run",
]
