"""Parse one run table from a byte stream, in chunks, keeping only the columns flowsleuth uses.

Reading in chunks with typed columns keeps peak memory near the size of the result, not of
every cell as a Python string (a 200 MB run took 1.6 GB when read whole).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
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

NA_STRINGS = ("", "nan", "NaN", "NAN", "NA", "N/A", "null", "NULL")
_NA = frozenset(NA_STRINGS)
CHUNK_ROWS = 20_000
_MAX_HEADER_BYTES = 1 << 20
_WANTED = frozenset((*NUMERIC_COLUMNS, *TEXT_COLUMNS, LABEL_COLUMN))


def _header(stream: IO[bytes], source: str) -> list[str]:
    """The header record, read with the csv module (pandas renames duplicates silently)."""
    head = stream.read(_MAX_HEADER_BYTES)
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
        return next(csv.reader(io.StringIO(text)), [])
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


def _check_labels(labels: pd.Series, source: str) -> pd.Series:
    raw: dict[str, str] = {}
    for value in labels.unique():
        try:
            raw[value] = parse_label(value).raw
        except UnknownLabelError as err:
            node = labels.index[labels.to_numpy() == value][0]
            raise DataError(source, str(err), row=str(node), column=LABEL_COLUMN) from None
    return labels.map(raw)


def _floats(block: np.ndarray, names: list[str], index: pd.Index, source: str) -> np.ndarray:
    """The 2-D block of numeric text cells as floats, in one cast: each cell stripped and an NA
    string read as NaN (what :func:`_to_float` does per column, without a Series per column).
    A cell that is not a number: :func:`_to_float` on its column names it."""
    flat = [s.strip() for s in block.ravel().tolist()]
    cells = np.array(["nan" if s in _NA else s for s in flat], dtype=object).reshape(block.shape)
    try:
        return cells.astype(float)
    except ValueError:
        for j, c in enumerate(names):
            _to_float(pd.Series(block[:, j], index=index, dtype=object), c, source)
        raise


def _chunk(
    df: pd.DataFrame, index_pos: int, cols: dict[int, str], first_row: int, source: str
) -> tuple[pd.DataFrame, pd.Series | None]:
    # one object block, then plain lists: a Series per column costs more than a small run's cells
    cells: np.ndarray = df.to_numpy(dtype=object)
    at: dict[int, int] = {int(p): i for i, p in enumerate(df.columns)}

    def stripped(pos: int) -> np.ndarray:
        return np.array([v.strip() for v in cells[:, at[pos]].tolist()], dtype=object)

    ids = stripped(index_pos)
    empty = ids == ""
    if empty.any():
        raise DataError(
            source, "empty job id", row=first_row + int(np.flatnonzero(empty)[0]), column=INDEX_COLUMN
        )
    index = pd.Index(ids, name=INDEX_COLUMN)
    pos = {name: p for p, name in cols.items()}
    numeric = [c for c in NUMERIC_COLUMNS if c in pos]
    block = cells[:, [at[pos[c]] for c in numeric]]
    values = _floats(block, numeric, index, source).T if numeric else np.empty((0, len(df)))
    num = dict(zip(numeric, values, strict=True))
    data: dict[str, object] = {c: num.get(c, np.nan) for c in NUMERIC_COLUMNS}
    for c in TEXT_COLUMNS:
        data[c] = stripped(pos[c]) if c in pos else ""
    out = pd.DataFrame(data, index=index)
    labels = None
    if LABEL_COLUMN in pos:
        p = pos[LABEL_COLUMN]
        labels = _check_labels(pd.Series(stripped(p), index=index, name=p, dtype=object), source)
    return out, labels


def _shared_strings(s: pd.Series) -> pd.Series:
    """The same values, with one string object per distinct value (hosts repeat per job)."""
    seen: dict[object, object] = {}
    shared = [seen.setdefault(v, v) for v in s.tolist()]
    return pd.Series(np.array(shared, dtype=object), index=s.index, name=s.name, dtype=object)


def read_table(stream: IO[bytes], source: str) -> tuple[pd.DataFrame, pd.Series | None, list[str]]:
    """Parse and validate one run table: (features frame, labels or None, data notes)."""
    index_pos, cols = _positions(_header(stream, source), source)
    frames: list[pd.DataFrame] = []
    label_parts: list[pd.Series] = []
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
        positions = sorted([index_pos, *cols])
        for df in reader:
            df.columns = positions  # by position: names are checked above, from the csv module
            frame, labels = _chunk(df, index_pos, cols, row, source)
            frames.append(frame)
            if labels is not None:
                label_parts.append(labels)
            row += len(df)
    except pd.errors.EmptyDataError:
        raise DataError(source, "the run has no jobs") from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(source, f"not a readable CSV ({first})") from None
    if not frames or not sum(len(f) for f in frames):
        raise DataError(source, "the run has no jobs")
    out = pd.concat(frames) if len(frames) > 1 else frames[0]
    del frames
    dup = out.index[out.index.duplicated()]
    if len(dup):
        raise DataError(source, f"duplicate job id {dup[0]!r} ({len(dup)} duplicates)", row=dup[0])
    for c in TEXT_COLUMNS:
        out[c] = _shared_strings(out[c])
    labels = _shared_strings(pd.concat(label_parts)) if label_parts else None
    note = implausible_note(out, source)
    return out, labels, [note] if note else []
