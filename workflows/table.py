"""Parse one run table from a byte stream, in chunks, keeping only the columns flowsleuth uses.

Reading in chunks with typed columns keeps peak memory near the size of the result, not of
every cell as a Python string (a 200 MB run took 1.6 GB when read whole).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass
from typing import IO

import numpy as np
import pandas as pd
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.labels import UnknownLabelError, parse_label
from flowsleuth.workflows.plausible import implausible_note
from flowsleuth.workflows.schema import (
    INDEX_COLUMN,
    LABEL_COLUMN,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
    TEXT_COLUMNS,
)
from flowsleuth.workflows.table_fast import FAST_MAX_BYTES, small_cells

NA_STRINGS = ("", "nan", "NaN", "NAN", "NA", "N/A", "null", "NULL")
_NA = frozenset(NA_STRINGS)
CHUNK_ROWS = 20_000
_MAX_HEADER_BYTES = 1 << 20
_WANTED = frozenset((*NUMERIC_COLUMNS, *TEXT_COLUMNS, LABEL_COLUMN))
# built once: a frame given a list of names infers their dtype anew, every run
_NUMERIC_INDEX = pd.Index(NUMERIC_COLUMNS)
_TEXT_INDEX = pd.Index(TEXT_COLUMNS)


def _header(stream: IO[bytes], source: str) -> tuple[list[str], bytes | None]:
    """The header record, read with the csv module (pandas renames duplicates silently), and
    the whole stream's bytes when it is small enough for :func:`small_cells`."""
    head = stream.read(_MAX_HEADER_BYTES)
    whole = head if len(head) <= FAST_MAX_BYTES and not stream.read(1) else None
    stream.seek(0)
    if not head.strip():
        raise DataError(source, "empty file")
    if b"\x00" in head[:4096]:
        raise DataError(source, "not a CSV file (binary content)")
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(head, final=len(head) < _MAX_HEADER_BYTES)
    except UnicodeDecodeError as err:
        raise DataError(source, f"not a CSV file (not UTF-8 text at byte {err.start})") from None
    try:
        return next(csv.reader(io.StringIO(text)), []), whole
    except csv.Error as err:
        raise DataError(source, f"not a readable CSV header ({err})") from None


def _positions(header: list[str], source: str) -> tuple[int, dict[int, str]]:
    """(index column position, {position: name} of the other columns used)."""
    names = [h.strip() for h in header]
    if len(names) < 2:
        raise DataError(source, "not a Flow-Bench run CSV (fewer than two columns)")
    dup = [n for n, k in Counter(names).items() if k > 1 and n]
    if dup:
        raise DataError(source, f"duplicate column name(s): {', '.join(map(repr, dup[:5]))}")
    if INDEX_COLUMN in names:
        index_pos = names.index(INDEX_COLUMN)
    elif names[0] == "" or names[0].startswith("Unnamed: 0"):
        index_pos = 0
    else:
        raise DataError(source, f"no job id column: expected {INDEX_COLUMN!r} or an unnamed first column")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise DataError(source, f"missing required column(s): {', '.join(missing)}")
    return index_pos, {i: n for i, n in enumerate(names) if n in _WANTED and i != index_pos}


def _to_float(text: pd.Series, column: str, source: str) -> pd.Series:
    text = text.str.strip()
    text = text.where(~text.isin(NA_STRINGS), "nan")
    try:
        return text.astype(float)
    except ValueError:
        bad = pd.to_numeric(text, errors="coerce").isna() & (text != "nan")
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            source, f"non-numeric value {text.iloc[pos]!r}", row=str(text.index[pos]), column=column
        ) from None


def _check_labels(labels: list[str], ids: np.ndarray, source: str) -> np.ndarray:
    """The labels' canonical spellings; an unknown one (the first, in row order) is an error."""
    raw: dict[str, str] = {}
    for value in dict.fromkeys(labels):
        try:
            raw[value] = parse_label(value).raw
        except UnknownLabelError as err:
            node = ids[labels.index(value)]
            raise DataError(source, str(err), row=str(node), column=LABEL_COLUMN) from None
    return np.array([raw[v] for v in labels], dtype=object)


def _floats(block: np.ndarray, names: list[str], ids: np.ndarray, source: str) -> np.ndarray:
    """The 2-D block of numeric text cells as floats, in one cast: each cell stripped and an NA
    string read as NaN (what :func:`_to_float` does per column, without a Series per column).
    A cell that is not a number: :func:`_to_float` on its column names it."""
    flat = [s.strip() for s in block.ravel().tolist()]
    cells = np.array(["nan" if s in _NA else s for s in flat], dtype=object).reshape(block.shape)
    try:
        return cells.astype(float)
    except ValueError:
        index = pd.Index(ids, dtype=object)
        for j, c in enumerate(names):
            _to_float(pd.Series(block[:, j], index=index, dtype=object), c, source)
        raise


@dataclass(frozen=True)
class _Block:
    """Some rows, checked: job ids, every numeric column as floats (NaN where the file has none),
    the text columns, and the canonical labels (None: no label column)."""

    ids: np.ndarray
    values: np.ndarray
    text: dict[str, np.ndarray]
    labels: np.ndarray | None


def _chunk(cells: np.ndarray, index_pos: int, cols: dict[int, str], first_row: int, source: str) -> _Block:
    """Check one block of rows: ``cells`` holds the used columns' text, in file order, as objects
    (plain lists from here: a Series per column costs more than a small run's cells)."""
    at = {p: i for i, p in enumerate(sorted([index_pos, *cols]))}

    def stripped(pos: int) -> list[str]:
        return [v.strip() for v in cells[:, at[pos]].tolist()]

    ids = np.array(stripped(index_pos), dtype=object)
    empty = ids == ""
    if empty.any():
        raise DataError(
            source, "empty job id", row=first_row + int(np.flatnonzero(empty)[0]), column=INDEX_COLUMN
        )
    pos = {name: p for p, name in cols.items()}
    numeric = [c for c in NUMERIC_COLUMNS if c in pos]
    values = np.full((len(cells), len(NUMERIC_COLUMNS)), np.nan)
    if numeric:
        block = cells[:, [at[pos[c]] for c in numeric]]
        values[:, [NUMERIC_COLUMNS.index(c) for c in numeric]] = _floats(block, numeric, ids, source)
    blank = [""] * len(cells)
    text = {c: np.array(stripped(pos[c]) if c in pos else blank, dtype=object) for c in TEXT_COLUMNS}
    labels = _check_labels(stripped(pos[LABEL_COLUMN]), ids, source) if LABEL_COLUMN in pos else None
    return _Block(ids, values, text, labels)


def _shared_strings(values: np.ndarray) -> np.ndarray:
    """The same values, with one string object per distinct value (hosts repeat per job)."""
    seen: dict[object, object] = {}
    return np.array([seen.setdefault(v, v) for v in values.tolist()], dtype=object)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def read_table(stream: IO[bytes], source: str) -> tuple[pd.DataFrame, pd.Series | None, list[str]]:
    """Parse and validate one run table: (features frame, labels or None, data notes)."""
    header, whole = _header(stream, source)
    index_pos, cols = _positions(header, source)
    label_pos = next((p for p, name in cols.items() if name == LABEL_COLUMN), None)
    rows = small_cells(whole, sorted([index_pos, *cols])) if whole is not None else None
    if rows is not None:
        block = _chunk(np.array(rows, dtype=object), index_pos, cols, 2, source)
        return _finish([block], label_pos, source)
    blocks: list[_Block] = []
    try:
        reader = pd.read_csv(
            stream,
            encoding="utf-8-sig",
            header=0,
            usecols=[index_pos, *cols],
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            chunksize=CHUNK_ROWS,
        )
        row = 2
        for df in reader:
            # by position: the names were checked above, from the csv module
            blocks.append(_chunk(df.to_numpy(dtype=object), index_pos, cols, row, source))
            row += len(df)
    except pd.errors.EmptyDataError:
        raise DataError(source, "the run has no jobs") from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(source, f"not a readable CSV ({first})") from None
    return _finish(blocks, label_pos, source)


def _finish(
    blocks: list[_Block], label_pos: int | None, source: str
) -> tuple[pd.DataFrame, pd.Series | None, list[str]]:
    """The blocks as one run: checked for jobs and duplicate ids, strings shared, values noted."""
    if not blocks or not sum(len(b.ids) for b in blocks):
        raise DataError(source, "the run has no jobs")
    index = pd.Index(_joined([b.ids for b in blocks]), name=INDEX_COLUMN)
    dup = index[index.duplicated()]
    if len(dup):
        raise DataError(source, f"duplicate job id {dup[0]!r} ({len(dup)} duplicates)", row=dup[0])
    values = _joined([b.values for b in blocks])
    text = {c: _shared_strings(_joined([b.text[c] for b in blocks])) for c in TEXT_COLUMNS}
    # one float block and one object block: a dict of 47 arrays costs twice as much to build
    strings = np.column_stack([text[c] for c in TEXT_COLUMNS])
    out = pd.concat(
        [
            pd.DataFrame(values, index=index, columns=_NUMERIC_INDEX),
            pd.DataFrame(strings, index=index, columns=_TEXT_INDEX, dtype=object),
        ],
        axis=1,
    )
    labels = None
    if label_pos is not None:
        shared = _shared_strings(_joined([b.labels for b in blocks if b.labels is not None]))
        labels = pd.Series(shared, index=index, name=label_pos, dtype=object)
    note = implausible_note(out, source)
    return out, labels, [note] if note else []
