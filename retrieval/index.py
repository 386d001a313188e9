"""JobIndex: labelled jobs in Chroma, one collection per (workflow, template).

Vectors are always ours (no Chroma embedding function), ids are ``run_id/node_id`` so upserts
are idempotent, and each collection records the embedder that filled it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from flowsleuth.retrieval import client as clients
from flowsleuth.retrieval.documents import (
    DEFAULT_TEMPLATE,
    check_template,
    doc_id,
    run_metadata,
    run_texts,
)
from flowsleuth.retrieval.embedder import Embedder, default_embedder
from flowsleuth.retrieval.errors import IndexMismatchError, JobIndexError
from flowsleuth.retrieval.models import AddReport, CollectionStats, IndexStats, Neighbour
from flowsleuth.workflows.models import Run

_PAGE = 5000


def collection_name(workflow: str, template: str) -> str:
    """A Chroma-legal name (3-512 chars of [A-Za-z0-9._-], alphanumeric ends)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{workflow}.{template}").replace("..", "._")
    return f"w{name}" if not name[0].isalnum() else name


class JobIndex:
    """Labelled jobs in a Chroma client. Build with :func:`open_index`."""

    def __init__(
        self,
        client: Any,
        location: str,
        template: str = DEFAULT_TEMPLATE,
        embedder: Embedder | None = None,
    ) -> None:
        self.client = client
        self.location = location
        self.template = check_template(template)
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """The embedder given at open time, else the default (cached MiniLM, loaded lazily)."""
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def _collection(self, workflow: str, embedder: Embedder | None = None, create: bool = False) -> Any:
        name = collection_name(workflow, self.template)
        with clients.chroma_errors(f"index {self.location}"):
            exists = name in {c.name for c in self.client.list_collections()}
            if not exists and not create:
                return None
            if exists:
                col = self.client.get_collection(name, embedding_function=None)
            else:
                # never get_or_create with metadata on an existing collection: chroma 1.5 then
                # rewrites its metadata and filtered queries stop finding the old vectors
                col = self.client.create_collection(
                    name, metadata=self._new_metadata(workflow, embedder), embedding_function=None
                )
        built_with = (col.metadata or {}).get("embedder")
        if embedder is not None and built_with not in (None, embedder.name):
            raise IndexMismatchError(
                f"collection {name} was built with embedder {built_with!r}, not {embedder.name!r}; "
                "use the same embedder or drop and rebuild it"
            )
        return col

    def _new_metadata(self, workflow: str, embedder: Embedder | None) -> dict[str, Any]:
        if embedder is None:
            raise ValueError("creating a collection needs the embedder that fills it")
        return {
            "hnsw:space": "cosine",
            "workflow": workflow,
            "template": self.template,
            "embedder": embedder.name,
            "dim": embedder.dim,
        }

    def workflows(self) -> list[str]:
        """Workflows with a collection for this index's template."""
        return sorted(c.workflow for c in self.stats().collections if c.template == self.template)

    def count(self, workflow: str) -> int:
        col = self._collection(workflow)
        if col is None:
            return 0
        with clients.chroma_errors(f"index {self.location}"):
            return int(col.count())

    def add_runs(
        self,
        runs: Iterable[Run],
        embedder: Embedder | None = None,
        progress: Callable[[Run], None] | None = None,
    ) -> AddReport:
        """Embed and upsert every labelled job of ``runs``; unlabelled runs are skipped.
        ``progress`` is called after each run. Re-adding a run replaces it (``added`` = 0)."""
        emb = embedder or self.embedder
        report = AddReport()
        for run in runs:
            if run.labels is None:
                report.skipped.append(run.run_id)
            else:
                added = self._add_run(run, emb)
                report.runs += 1
                report.jobs += len(run)
                report.added += added
            if progress is not None:
                progress(run)
        return report

    def _add_run(self, run: Run, emb: Embedder) -> int:
        """Add the run's jobs that are new or changed; returns how many vectors are new.

        Chroma 1.5 ``upsert`` of an existing id breaks later filtered queries (they return
        nothing), so unchanged jobs are skipped and changed ones are deleted, then added.
        """
        col = self._collection(run.workflow, emb, create=True)
        texts = run_texts(run, self.template)
        ids = [doc_id(run.run_id, str(n)) for n in texts.index]
        metas = run_metadata(run)
        where = f"index {self.location}: adding run {run.run_id}"
        with clients.chroma_errors(where):
            old = col.get(ids=ids, include=["documents", "metadatas"])
        before = dict(
            zip(old["ids"], zip(old["documents"] or [], old["metadatas"] or [], strict=True), strict=True)
        )
        todo = [
            i
            for i, (key, text, meta) in enumerate(zip(ids, texts, metas, strict=True))
            if key not in before or before[key] != (text, meta)
        ]
        if not todo:
            return 0
        vectors = emb.embed([texts.iloc[i] for i in todo])
        with clients.chroma_errors(where):
            stale = [ids[i] for i in todo if ids[i] in before]
            if stale:
                col.delete(ids=stale)
            col.add(
                ids=[ids[i] for i in todo],
                embeddings=vectors,
                metadatas=[metas[i] for i in todo],
                documents=[texts.iloc[i] for i in todo],
            )
        return len(todo) - len(stale)

    def remove_run(self, workflow: str, run_id: str) -> int:
        """Delete one run's jobs; returns how many were removed (0 if it was not indexed)."""
        col = self._collection(workflow)
        if col is None:
            return 0
        with clients.chroma_errors(f"index {self.location}: removing run {run_id}"):
            before = col.count()
            col.delete(where={"run": run_id})
            return int(before) - int(col.count())

    def drop(self, workflow: str | None = None, *, all_templates: bool = False) -> list[str]:
        """Delete collections: of ``workflow`` (or every workflow), of this index's template
        (or of every template). Returns the names deleted."""
        with clients.chroma_errors(f"index {self.location}"):
            names = []
            for c in self.client.list_collections():
                meta = self.client.get_collection(c.name, embedding_function=None).metadata or {}
                if workflow is not None and meta.get("workflow") != workflow:
                    continue
                if not all_templates and meta.get("template") != self.template:
                    continue
                names.append(c.name)
            for n in names:
                self.client.delete_collection(n)
        return names

    def stats(self) -> IndexStats:
        """Jobs, runs and label classes of every collection (all templates)."""
        out = []
        with clients.chroma_errors(f"index {self.location}"):
            for c in self.client.list_collections():
                col = self.client.get_collection(c.name, embedding_function=None)
                meta = col.metadata or {}
                runs: set[str] = set()
                classes: dict[str, int] = {}
                total = int(col.count())
                for offset in range(0, total, _PAGE):
                    page = col.get(include=["metadatas"], limit=_PAGE, offset=offset)
                    for m in page["metadatas"] or []:
                        runs.add(str(m.get("run")))
                        cls = str(m.get("cls"))
                        classes[cls] = classes.get(cls, 0) + 1
                out.append(
                    CollectionStats(
                        name=c.name,
                        workflow=str(meta.get("workflow", c.name)),
                        template=str(meta.get("template", "?")),
                        embedder=str(meta.get("embedder", "?")),
                        jobs=total,
                        runs=len(runs),
                        classes=dict(sorted(classes.items())),
                    )
                )
        return IndexStats(location=self.location, collections=sorted(out, key=lambda c: c.name))

    def query(
        self,
        workflow: str,
        vectors: np.ndarray,
        k: int,
        *,
        exclude_run: str | None = None,
        where: dict[str, Any] | None = None,
        embedder: Embedder | None = None,
        with_text: bool = True,
    ) -> list[list[Neighbour]]:
        """The ``k`` nearest indexed jobs of ``workflow`` for each query vector, nearest first.
        ``exclude_run`` drops that run's jobs (a job must never be its own example).
        A workflow that is not indexed, or an empty collection, gives empty lists.
        ``with_text=False`` skips the stored sentences (a vote needs only labels)."""
        col = self._collection(workflow, embedder or self._embedder)
        empty: list[list[Neighbour]] = [[] for _ in range(len(vectors))]
        if col is None or len(vectors) == 0 or k <= 0:
            return empty
        clauses = [c for c in (where, {"run": {"$ne": exclude_run}} if exclude_run else None) if c]
        flt = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        with clients.chroma_errors(f"index {self.location}: query"):
            if col.count() == 0:
                return empty
            res = col.query(
                query_embeddings=np.asarray(vectors, dtype=np.float32),
                n_results=k,
                where=flt,
                include=["metadatas", "distances", "documents"] if with_text else ["metadatas", "distances"],
            )
        return [
            [
                Neighbour(**_meta_fields(m), distance=float(d), text=str(t or ""))
                for m, d, t in zip(metas, dists, docs, strict=True)
            ]
            for metas, dists, docs in zip(
                res["metadatas"] or [],
                res["distances"] or [],
                res["documents"] or [[None] * len(m) for m in res["metadatas"] or []],
                strict=True,
            )
        ]


def _meta_fields(m: Any) -> dict[str, Any]:
    keys = ("workflow", "run", "job", "transformation", "host", "label", "cls")
    out: dict[str, Any] = {k: str(m.get(k, "")) for k in keys}
    out["anomalous"] = bool(m.get("anomalous", False))
    return out


def open_index(
    index_dir: Path | None = None,
    chroma_url: str | None = None,
    *,
    template: str = DEFAULT_TEMPLATE,
    embedder: Embedder | None = None,
    create: bool = False,
    timeout_s: float = clients.CONNECT_TIMEOUT_S,
) -> JobIndex:
    """Open the job index: the Chroma server at ``chroma_url``, or the embedded index in
    ``index_dir`` (give exactly one). ``create`` makes a missing directory (for writing);
    without it a missing index raises :class:`~retrieval.errors.IndexNotFoundError`. Every
    failure is a :class:`~workflows.errors.FlowsleuthError` with a one-line message."""
    if (chroma_url is None) == (index_dir is None):
        raise JobIndexError("give an index directory or a Chroma server URL (exactly one)")
    if chroma_url is not None:
        client = clients.http_client(chroma_url, timeout_s=timeout_s)
        return JobIndex(client, chroma_url, template, embedder)
    assert index_dir is not None
    path = Path(index_dir).expanduser()
    return JobIndex(clients.persistent_client(path, create=create), str(path), template, embedder)
