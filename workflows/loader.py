"""Load Flow-Bench runs from one CSV, a directory tree of CSVs, or a ``.zip`` of them.

Every failure is a :class:`DataError` naming the file (and row / column where that applies).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.labels import UnknownLabelError, parse_label
from flowsleuth.workflows.models import UNKNOWN_WORKFLOW, Run
from flowsleuth.workflows.schema import (
    INDEX_COLUMN,
    LABEL_COLUMN,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
    TEXT_COLUMNS,
)

_RUN_NAME = re.compile(r"^(?P<workflow>.+?)-run(?P<number>\d+)$")
_NA_STRINGS = ("", "nan", "NaN", "NAN", "NA", "N/A", "null", "NULL")
_LABEL_DIRS = re.compile(r"^(normal|None|(cpu|hdd)_\d+)$")


def parse_run_name(stem: str) -> tuple[str, str]:
    """``montage-run0889`` -> (``montage``, ``montage-run0889``); other names -> (unknown, stem)."""
    m = _RUN_NAME.match(stem)
    return (m.group("workflow"), stem) if m else (UNKNOWN_WORKFLOW, stem)


def _injected_from_dir(dirname: str | None) -> str | None:
    if dirname is None or not _LABEL_DIRS.match(dirname):
        return None
    return "None" if dirname in ("normal", "None") else dirname


def _read_table(raw: bytes, source: str) -> pd.DataFrame:
    if not raw.strip():
        raise DataError(source, "empty file")
    if b"\x00" in raw[:4096]:
        raise DataError(source, "not a CSV file (binary content)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(source, f"not a CSV file (not UTF-8 text at byte {err.start})") from None
    try:
        # Everything as text first: pandas would read the label 'None' as NaN, and its fast
        # float parser is not round-trip exact, which the paper's sentences need.
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(source, f"not a readable CSV ({first})") from None
    if df.shape[1] < 2:
        raise DataError(source, "not a Flow-Bench run CSV (fewer than two columns)")
    return df


def _set_index(df: pd.DataFrame, source: str) -> pd.DataFrame:
    first = str(df.columns[0])
    if INDEX_COLUMN in df.columns:
        df = df.set_index(INDEX_COLUMN)
    elif first == "" or first.startswith("Unnamed: 0"):
        df = df.set_index(df.columns[0])
    else:
        raise DataError(source, f"no job id column: expected {INDEX_COLUMN!r} or an unnamed first column")
    df.index = df.index.astype(str).str.strip()
    df.index.name = INDEX_COLUMN
    if (df.index == "").any():
        row = int(np.flatnonzero(df.index == "")[0]) + 2
        raise DataError(source, "empty job id", row=row, column=INDEX_COLUMN)
    dup = df.index[df.index.duplicated()]
    if len(dup):
        raise DataError(source, f"duplicate job id {dup[0]!r} ({len(dup)} duplicates)", row=dup[0])
    return df


def _to_float(df: pd.DataFrame, column: str, source: str) -> pd.Series:
    text = df[column].str.strip()
    text = text.where(~text.isin(_NA_STRINGS), "nan")
    try:
        return text.astype(float)
    except ValueError:
        bad = pd.to_numeric(text, errors="coerce").isna() & (text != "nan")
        node = bad.index[bad.to_numpy()][0]
        raise DataError(
            source, f"non-numeric value {df.at[node, column]!r}", row=node, column=column
        ) from None


def frame_from_bytes(raw: bytes, source: str) -> tuple[pd.DataFrame, pd.Series | None]:
    """Parse and validate one run table. Returns (features frame, labels or None)."""
    df = _set_index(_read_table(raw, source), source)
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(source, f"missing required column(s): {', '.join(missing)}")
    if df.empty:
        raise DataError(source, "the run has no jobs")
    out = pd.DataFrame(index=df.index)
    for c in NUMERIC_COLUMNS:
        out[c] = _to_float(df, c, source) if c in df.columns else np.nan
    for c in TEXT_COLUMNS:
        out[c] = df[c].str.strip() if c in df.columns else ""
    labels = None
    if LABEL_COLUMN in df.columns:
        labels = df[LABEL_COLUMN].str.strip()
        for node, value in labels.items():
            try:
                parse_label(value)
            except UnknownLabelError as err:
                raise DataError(source, str(err), row=str(node), column=LABEL_COLUMN) from None
        labels = labels.map(lambda v: parse_label(v).raw)
    return out, labels


def run_from_bytes(
    raw: bytes, source: str, *, name: str, dirname: str | None = None, workflow: str | None = None
) -> Run:
    frame, labels = frame_from_bytes(raw, source)
    inferred_wf, run_id = parse_run_name(name)
    injected = _injected_from_dir(dirname)
    if injected is None and labels is not None:
        anomalous = sorted({v for v in labels if v != "None"})
        injected = anomalous[0] if len(anomalous) == 1 else ("None" if not anomalous else None)
    return Run(
        workflow=workflow or inferred_wf,
        run_id=run_id,
        source=source,
        frame=frame,
        labels=labels,
        injected=injected,
    )


def load_run(path: str | Path, *, workflow: str | None = None) -> Run:
    """Load one run CSV. The workflow and run id come from a ``<workflow>-runNNNN.csv`` name."""
    p = Path(path)
    if not p.exists():
        raise DataError(p, "no such file")
    if p.is_dir():
        raise DataError(p, "is a directory; use load_runs for a tree of runs")
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise DataError(p, f"cannot read ({err.strerror})") from None
    return run_from_bytes(raw, str(p), name=p.stem, dirname=p.parent.name, workflow=workflow)


def _iter_zip(p: Path) -> Iterator[Run]:
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(p, f"not a readable zip archive ({err})") from None
    with zf:
        members = sorted(
            n for n in zf.namelist() if n.lower().endswith(".csv") and not n.startswith("__MACOSX")
        )
        if not members:
            raise DataError(p, "the zip archive holds no run CSV files")
        for name in members:
            member = PurePosixPath(name)
            try:
                raw = zf.read(name)
            except (zipfile.BadZipFile, OSError, RuntimeError) as err:
                raise DataError(f"{p}!{name}", f"cannot extract ({err})") from None
            parent = member.parent.name or None
            yield run_from_bytes(raw, f"{p}!{name}", name=member.stem, dirname=parent)


def iter_runs(path: str | Path) -> Iterator[Run]:
    """Yield runs from a CSV file, a directory tree of CSVs, or a zip of them, in sorted order."""
    p = Path(path)
    if not p.exists():
        raise DataError(p, "no such file or directory")
    if p.is_dir():
        files = sorted(f for f in p.rglob("*.csv") if f.is_file())
        if not files:
            raise DataError(p, "the directory holds no run CSV files")
        for f in files:
            yield load_run(f)
    elif p.suffix.lower() == ".zip" or zipfile.is_zipfile(p):
        yield from _iter_zip(p)
    else:
        yield load_run(p)


def count_runs(path: str | Path) -> int:
    """How many runs :func:`iter_runs` will yield (cheap: no parsing); 0 when unreadable."""
    p = Path(path)
    if p.is_dir():
        return sum(1 for f in p.rglob("*.csv") if f.is_file())
    if p.suffix.lower() == ".zip" or zipfile.is_zipfile(p):
        try:
            with zipfile.ZipFile(p) as zf:
                return sum(n.lower().endswith(".csv") and not n.startswith("__MACOSX") for n in zf.namelist())
        except (zipfile.BadZipFile, OSError):
            return 0
    return 1 if p.is_file() else 0


def load_runs(path: str | Path) -> list[Run]:
    return list(iter_runs(path))
