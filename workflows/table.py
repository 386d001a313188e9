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


def _chunk(
    df: pd.DataFrame, index_pos: int, cols: dict[int, str], first_row: int, source: str
) -> tuple[pd.DataFrame, pd.Series | None]:
    ids: pd.Series = df[index_pos].str.strip()
    empty = (ids == "").to_numpy()
    if empty.any():
        raise DataError(
            source, "empty job id", row=first_row + int(np.flatnonzero(empty)[0]), column=INDEX_COLUMN
        )
    df = df.set_axis(pd.Index(ids.to_numpy(), name=INDEX_COLUMN), axis=0)
    by_name = {name: df[pos] for pos, name in cols.items()}
    out = pd.DataFrame(index=df.index)
    for c in NUMERIC_COLUMNS:
        out[c] = _to_float(by_name[c], c, source) if c in by_name else np.nan
    for c in TEXT_COLUMNS:
        out[c] = by_name[c].str.strip() if c in by_name else ""
    labels = None
    if LABEL_COLUMN in by_name:
        labels = _check_labels(by_name[LABEL_COLUMN].str.strip(), source)
    return out, labels


def _shared_strings(s: pd.Series) -> pd.Series:
    """The same values, with one string object per distinct value (hosts repeat per job)."""
    return s.astype("category").astype(object) if len(s) else s


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
