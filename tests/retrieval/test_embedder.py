from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from flowsleuth.retrieval.cache import CachedEmbedder, VectorCache
from flowsleuth.retrieval.embedder import HashingEmbedder, MiniLMEmbedder, cached, embedder_by_name
from flowsleuth.retrieval.errors import EmbedderError


class CountingEmbedder:
    """Counts the texts that reach the model."""

    name = "counting-v1"
    dim = 8

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += list(texts)
        return HashingEmbedder(dim=8).embed(texts)


def test_hashing_is_deterministic_and_unit_norm() -> None:
    texts = ["runtime is 800.0 ", "runtime is 810.0 ", "queue_delay is nan "]
    a, b = HashingEmbedder().embed(texts), HashingEmbedder().embed(texts)
    assert a.shape == (3, 256) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-6)
    # close values share a log bucket: more similar than a value 1000x larger
    far = HashingEmbedder().embed(["runtime is 800000.0 "])[0]
    assert a[0] @ a[1] > a[0] @ far


def test_cache_embeds_each_text_once_and_persists(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    emb = CachedEmbedder(inner, VectorCache(tmp_path / "v.sqlite"))
    first = emb.embed(["a", "b", "a"])
    assert inner.seen == ["a", "b"]
    again = CachedEmbedder(inner, VectorCache(tmp_path / "v.sqlite")).embed(["b", "a", "c"])
    assert inner.seen == ["a", "b", "c"]  # only the new text reached the model
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[1], first[0])
    assert emb.embed([]).shape == (0, 8)


def test_cache_keys_separate_embedders(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "v.sqlite")
    CachedEmbedder(CountingEmbedder(), cache).embed(["x"])
    other = HashingEmbedder(dim=8)
    got = CachedEmbedder(other, cache).embed(["x"])
    np.testing.assert_array_equal(got, other.embed(["x"]))


def test_unusable_cache_falls_back_to_the_model(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    emb = cached(HashingEmbedder(), blocker / "sub" / "v.sqlite")  # parent is a file
    assert isinstance(emb, HashingEmbedder)
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        VectorCache(broken)


def test_unknown_embedder_name() -> None:
    with pytest.raises(EmbedderError, match="unknown embedder"):
        embedder_by_name("word2vec")


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="cannot load the MiniLM embedder"):
        MiniLMEmbedder(model_path=tmp_path / "nothing-here").embed(["x"])


@pytest.mark.slow
def test_real_minilm_on_a_few_sentences() -> None:
    emb = MiniLMEmbedder()
    v = emb.embed(
        [
            "wms_delay is 6.0 queue_delay is 1006.0 runtime is 808.0 ",
            "wms_delay is 6.0 queue_delay is 1006.0 runtime is 809.0 ",
            "the cat sat on the mat",
        ]
    )
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]
