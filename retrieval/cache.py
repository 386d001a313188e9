"""A content-hash keyed cache of embedding vectors, on disk (sqlite), so that re-indexing
unchanged jobs costs nothing."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from flowsleuth.retrieval.embedder import Embedder

log = logging.getLogger(__name__)
_CHUNK = 500  # sqlite's host-parameter limit is 999 on old builds


def text_key(embedder_name: str, text: str) -> str:
    """The cache key of one text under one embedder: vectors of two models never mix."""
    return hashlib.sha1(f"{embedder_name}\0{text}".encode()).hexdigest()


class VectorCache:
    """sqlite table key -> float32 bytes. Thread-safe; one connection per cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), _CHUNK):
                chunk = list(keys[i : i + _CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk
                ).fetchall()
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])


class CachedEmbedder:
    """Wraps any :class:`Embedder`: texts seen before (by content hash) are not embedded again."""

    def __init__(self, inner: Embedder, cache: VectorCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.dim = inner.dim
        self.misses = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(self.name, t) for t in texts]
        try:
            found = self.cache.get_many(list(dict.fromkeys(keys)))
        except sqlite3.Error as err:  # a broken cache only costs speed
            log.warning("embedding cache %s unreadable (%s); embedding without it", self.cache.path, err)
            found = {}
        todo = list(dict.fromkeys(k for k in keys if k not in found))
        if todo:
            wanted = set(todo)
            first = {k: t for k, t in zip(keys, texts, strict=True) if k in wanted}
            new = self.inner.embed([first[k] for k in todo])
            fresh = dict(zip(todo, new, strict=True))
            self.misses += len(todo)
            try:
                self.cache.put_many(fresh)
            except sqlite3.Error as err:
                log.warning("embedding cache %s unwritable (%s)", self.cache.path, err)
            found.update(fresh)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)
