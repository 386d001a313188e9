"""Load Flow-Bench runs from one CSV, a directory tree of CSVs, or a ``.zip`` of them.

Every failure is a :class:`DataError` naming the file (and row / column where that applies).
In a batch (a directory or a zip), ``on_error`` lets the caller report a bad run and go on.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO

import pandas as pd
from flowsleuth.workflows.archive import is_run_member, max_member_bytes, open_zip, read_member
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import UNKNOWN_WORKFLOW, Run
from flowsleuth.workflows.table import read_table

_RUN_NAME = re.compile(r"^(?P<workflow>.+?)-run(?P<number>\d+)$")
_LABEL_DIRS = re.compile(r"^(normal|None|(cpu|hdd)_\d+)$")

OnError = Callable[[DataError], None]


def parse_run_name(stem: str) -> tuple[str, str]:
    """``montage-run0889`` -> (``montage``, ``montage-run0889``); other names -> (unknown, stem)."""
    m = _RUN_NAME.match(stem)
    return (m.group("workflow"), stem) if m else (UNKNOWN_WORKFLOW, stem)


def _injected_from_dir(dirname: str | None) -> str | None:
    if dirname is None or not _LABEL_DIRS.match(dirname):
        return None
    return "None" if dirname in ("normal", "None") else dirname


def frame_from_bytes(raw: bytes, source: str) -> tuple[pd.DataFrame, pd.Series | None]:
    """Parse and validate one run table. Returns (features frame, labels or None)."""
    frame, labels, _ = read_table(io.BytesIO(raw), source)
    return frame, labels


def _run(stream: IO[bytes], source: str, *, name: str, dirname: str | None, workflow: str | None) -> Run:
    frame, labels, notes = read_table(stream, source)
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
        notes=tuple(notes),
    )


def run_from_bytes(
    raw: bytes, source: str, *, name: str, dirname: str | None = None, workflow: str | None = None
) -> Run:
    return _run(io.BytesIO(raw), source, name=name, dirname=dirname, workflow=workflow)


def load_run(path: str | Path, *, workflow: str | None = None) -> Run:
    """Load one run CSV. The workflow and run id come from a ``<workflow>-runNNNN.csv`` name."""
    p = Path(path)
    if not p.exists():
        raise DataError(p, "no such file")
    if p.is_dir():
        raise DataError(p, "is a directory; use load_runs for a tree of runs")
    try:
        with open(p, "rb") as fh:
            return _run(fh, str(p), name=p.stem, dirname=p.parent.name, workflow=workflow)
    except OSError as err:
        raise DataError(p, f"cannot read ({err.strerror or err})") from None


def _guarded(runs: Iterator[Callable[[], Run]], on_error: OnError | None) -> Iterator[Run]:
    for make in runs:
        try:
            run = make()
        except DataError as err:
            if on_error is None:
                raise
            on_error(err)
            continue
        yield run


def _zip_members(p: Path) -> Iterator[Callable[[], Run]]:
    cap = max_member_bytes()
    with open_zip(p) as zf:
        infos = sorted((i for i in zf.infolist() if is_run_member(i.filename)), key=lambda i: i.filename)
        if not infos:
            raise DataError(p, "the zip archive holds no run CSV files")
        for info in infos:
            member = PurePosixPath(info.filename)
            where = f"{p}!{info.filename}"

            def make(info: zipfile.ZipInfo = info, member: PurePosixPath = member, where: str = where) -> Run:
                stream = read_member(zf, info, where, cap)
                return _run(
                    stream, where, name=member.stem, dirname=member.parent.name or None, workflow=None
                )

            yield make


def iter_runs(path: str | Path, on_error: OnError | None = None) -> Iterator[Run]:
    """Yield runs from a CSV file, a directory tree of CSVs, or a zip of them, in sorted order.

    With ``on_error``, a run of a directory or zip that cannot be read is handed to it and
    skipped; without, its :class:`DataError` ends the iteration.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(p, "no such file or directory")
    if p.is_dir():
        files = sorted(f for f in p.rglob("*.csv") if f.is_file())
        if not files:
            raise DataError(
                p,
                "the directory holds no run CSV files and is not a Pegasus submit directory "
                "(no braindump.yml, *.stampede.db or jobstate.log)",
            )
        yield from _guarded((functools.partial(load_run, f) for f in files), on_error)
    elif p.suffix.lower() == ".zip" or zipfile.is_zipfile(p):
        yield from _guarded(_zip_members(p), on_error)
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
                return sum(is_run_member(n) for n in zf.namelist())
        except (zipfile.BadZipFile, OSError):
            return 0
    return 1 if p.is_file() else 0


def load_runs(path: str | Path) -> list[Run]:
    return list(iter_runs(path))
