"""Arrow columns into numpy without a Python object per value: numbers zero-copy, text decoded once.

Arrow data arrives through the C data interface (``nanoarrow``, no pyarrow: pyarrow would change
pandas 3's default string storage for the whole project). Text that only needs comparing (job
states) is matched on its bytes: each string's first 8-byte words, read straight out of Arrow's
data buffer, masked to its length, and checked word for word (no hash is trusted).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

INT, FLOAT, TEXT = "int", "float", "text"
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
# MASKS[k]: the low k bytes of a little-endian word
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [0xFFFFFFFFFFFFFFFF], dtype=np.uint64)


def _valid(view: Any, n: int) -> np.ndarray | None:
    """The validity bitmap as booleans (None: no NULLs)."""
    if view.null_count == 0:
        return None
    bits = np.frombuffer(view.buffer(0), dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[view.offset : view.offset + n].astype(bool)


def _text_parts(view: Any) -> tuple[np.ndarray, np.ndarray]:
    """(offsets rebased to 0, data bytes) of a string/large_string view."""
    n, off = view.length, view.offset
    dtype = np.int64 if view.storage_type == "large_string" else np.int32
    offsets = np.frombuffer(view.buffer(1), dtype=dtype)[off : off + n + 1].astype(np.int64)
    data = np.frombuffer(view.buffer(2), dtype=np.uint8) if offsets[-1] > 0 else np.zeros(0, np.uint8)
    return offsets - offsets[0], data[offsets[0] : offsets[-1]]


def _decode(offsets: np.ndarray, data: np.ndarray) -> list[str]:
    raw = data.tobytes()
    o = offsets.tolist()
    if raw.isascii():  # one decode, then slices of one str (a byte offset is a char offset)
        text = raw.decode("ascii")
        return [text[a:b] for a, b in itertools.pairwise(o)]
    # strict: bytes that are not UTF-8 are a corrupt or tampered DB (with_retry says so in one line)
    return [raw[a:b].decode("utf-8") for a, b in itertools.pairwise(o)]


_SAMPLE, _FEW, _SHORT = 1024, 256, 64


def _strings(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Decoded texts as an object array. A column of few distinct short values (hosts, sites, job
    types) decodes each distinct value once: rows are grouped by a 64-bit key of their bytes, and
    every row is compared word for word with its group's first row before that row's str is shared."""
    n = len(offsets) - 1
    out = np.empty(n, dtype=object)
    lengths = np.diff(offsets)
    few = n > 4 * _SAMPLE and int(lengths.max(initial=0)) <= _SHORT
    few = few and len(set(_decode(offsets[: _SAMPLE + 1], data))) <= _FEW
    if few:
        w = words(offsets, data, max(1, -(-int(lengths.max(initial=0)) // 8)))
        codes, uniques = pd.factorize(_hash(w, lengths, np.zeros(n, dtype=np.int64)))
        first = np.empty(len(uniques), dtype=np.int64)
        first[codes[::-1]] = np.arange(n)[::-1]
        rep = first[codes]
        if len(uniques) <= n // 4 and (lengths[rep] == lengths).all() and (w[rep] == w).all():
            starts = offsets[first]
            sub = np.concatenate([[0], np.cumsum(lengths[first])])
            picked = np.concatenate(
                [data[a : a + m] for a, m in zip(starts.tolist(), lengths[first].tolist(), strict=True)]
            )
            values = np.empty(len(uniques), dtype=object)
            values[:] = _decode(sub, picked)
            return values[codes]
    out[:] = _decode(offsets, data)
    return out


def column(array: Any, kind: str) -> np.ndarray:
    """One Arrow column (a nanoarrow ``CArray``) as numpy, as the sqlite3 tuples would come out in
    pandas: INT -> int64 (float64 with NaN when it holds NULLs), FLOAT -> float64 (NaN),
    TEXT -> object (str, None)."""
    view = array.view()
    n, off, storage = view.length, view.offset, view.storage_type
    valid = _valid(view, n)
    if storage in ("string", "large_string"):
        offsets, data = _text_parts(view)
        if kind == TEXT:
            out = _strings(offsets, data)
        else:  # SQLite keeps text in any column; monitord never writes it in a number column
            raise ValueError(f"text in the number column {array.schema.name!r}")
    elif storage in ("int64", "double"):
        out = np.frombuffer(view.buffer(1), dtype=np.int64 if storage == "int64" else np.float64)[
            off : off + n
        ]
        if kind == TEXT:  # an all-NULL text column (typed int64) or numbers in a text column
            out = out.astype(object)
        elif kind == FLOAT or valid is not None:
            out = out.astype(np.float64)
    elif storage == "na":
        return np.full(n, None, dtype=object)
    else:
        raise TypeError(f"unexpected Arrow type {storage!r} from SQLite")
    if valid is not None:
        if not valid.any():  # all NULL: None, as pandas makes of a column of Nones
            return np.full(n, None, dtype=object)
        out = out.copy() if not out.flags.writeable else out
        out[~valid] = None if kind == TEXT else np.nan
    return out


def empty(kind: str) -> np.ndarray:
    return np.zeros(0, dtype={INT: np.int64, FLOAT: np.float64}.get(kind, object))


def words(offsets: np.ndarray, data: np.ndarray, k: int) -> np.ndarray:
    """(n, k) uint64: each string's first ``8k`` bytes as little-endian words, zero past its end."""
    n = len(offsets) - 1
    buf = np.zeros(len(data) + 8 * k + 8, dtype=np.uint8)
    buf[: len(data)] = data
    # a uint64 read at every byte offset (unaligned view, no copy)
    at = np.ndarray(shape=(len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))
    start, length = offsets[:-1], np.diff(offsets)
    out = np.empty((n, k), dtype=np.uint64)
    for j in range(k):
        left = np.clip(length - 8 * j, 0, 8)
        out[:, j] = at[start + 8 * j] & _MASKS[left]
    return out


def _hash(w: np.ndarray, lengths: np.ndarray, group: np.ndarray) -> np.ndarray:
    """A 64-bit key of (group, length, words): equal texts in one group, equal keys."""
    mul = np.uint64(0x9E3779B97F4A7C15)
    key = (group.astype(np.uint64) * mul) ^ lengths.astype(np.uint64)
    for j in range(w.shape[1]):
        key = (key * mul) ^ w[:, j]
    return key


def text_parts(arrays: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, data, valid) of a string column in one or more Arrow batches."""
    offsets, data, valid = [np.zeros(1, np.int64)], [], []
    for a in arrays:
        view = a.view()
        if view.storage_type not in ("string", "large_string"):  # an all-NULL column
            offsets.append(np.full(view.length, offsets[-1][-1], dtype=np.int64))
            valid.append(np.zeros(view.length, dtype=bool))
            continue
        o, d = _text_parts(view)
        offsets.append(o[1:] + offsets[-1][-1])
        data.append(d)
        v = _valid(view, view.length)
        valid.append(np.ones(view.length, dtype=bool) if v is None else v)
    cat = np.concatenate
    return (
        cat(offsets),
        cat(data) if data else np.zeros(0, np.uint8),
        cat(valid) if valid else np.zeros(0, bool),
    )


class ByteIndex:
    """Texts (with a group each, e.g. the workflow) -> values, looked up by bytes with no Python
    string made. A 64-bit key finds the candidate and every byte is then compared, so a lookup is
    exact. ``unique`` is False when two keys share a 64-bit key (the caller then matches decoded
    strings instead)."""

    def __init__(
        self, keys: tuple[np.ndarray, np.ndarray, np.ndarray], group: np.ndarray, values: np.ndarray
    ):
        offsets, data, valid = keys
        self.k = max(1, -(-int(np.diff(offsets).max(initial=0)) // 8))  # words of the longest key
        self.words, self.lengths = words(offsets, data, self.k), np.diff(offsets)
        self.group, self.values, self.rows = group, values, np.flatnonzero(valid)
        self.index = pd.Index(_hash(self.words, self.lengths, group)[valid])
        self.unique = bool(self.index.is_unique)

    def lookup(self, queries: tuple[np.ndarray, np.ndarray, np.ndarray], group: np.ndarray) -> np.ndarray:
        """The value of each query's key (-1: none has the same group and bytes)."""
        offsets, data, valid = queries
        qw, ql = words(offsets, data, self.k), np.diff(offsets)  # a longer query differs in length
        cand = self.index.get_indexer(_hash(qw, ql, group))
        found = (cand >= 0) & valid
        if not len(self.rows):
            return np.full(len(cand), -1, dtype=np.int64)
        c = self.rows[np.where(found, cand, 0)]
        found &= (self.group[c] == group) & (self.lengths[c] == ql) & (self.words[c] == qw).all(axis=1)
        return np.where(found, self.values[c], -1)
