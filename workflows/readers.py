"""The reader seam: where runs come from. One entry-point group, ``flowsleuth.readers``.

A reader is an object (or a class built with no arguments) with::

    name: str                                            # "csv", "zip", "pegasus", ...
    def accepts(self, source: str) -> bool               # cheap: a suffix, a layout, a URL scheme
    def read(self, source: str, *, workflow: str | None = None,
             on_error: Callable[[DataError], None] | None = None) -> Iterator[Run]
    def count(self, source: str) -> int                  # runs read() will yield; 0 when unknown

``read`` yields :class:`~workflows.models.Run` objects whose ``run_id`` and ``workflow`` the
reader sets from what the source records (a Pegasus stampede database knows both); ``workflow``
is the user's ``--workflow`` for formats that do not record it, and wins when given. Bad input
raises :class:`~workflows.errors.DataError` naming the source (one line, never a traceback);
a reader of several runs hands a run it cannot read to ``on_error`` when given, and goes on.
A run whose workflow is not known is ``workflow == "unknown"``: it is scored with the pooled
models, never another workflow's.

flowsleuth's own readers (``csv``, ``directory``, ``zip``) are registered through this very
group in its pyproject.toml. Readers of other distributions are asked first (they are more
specific: a Pegasus submit directory is also a directory), then the built-ins in the order
pegasus, zip, csv, directory (a Pegasus submit directory or stampede DB is also a
directory or a file). ``plugins=False`` skips other distributions' readers.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.loader import count_runs, iter_runs, load_run
from flowsleuth.workflows.models import UNKNOWN_WORKFLOW, Run
from flowsleuth.workflows.names import canonical_workflow
from flowsleuth.workflows.plugins import group_entry_points

GROUP = "flowsleuth.readers"
BUILTIN_ORDER = ("pegasus", "zip", "csv", "directory")  # most specific first
OnError = Callable[[DataError], None]


@runtime_checkable
class Reader(Protocol):
    name: str

    def accepts(self, source: str) -> bool: ...

    def read(
        self, source: str, *, workflow: str | None = None, on_error: OnError | None = None
    ) -> Iterator[Run]: ...

    def count(self, source: str) -> int: ...


def _named(run: Run, workflow: str | None) -> Run:
    return run if workflow is None else replace(run, workflow=canonical_workflow(workflow))


class CsvReader:
    """One Flow-Bench run CSV; the workflow and run id come from a ``<workflow>-runNNNN.csv``
    name (the only place the format records them), else ``--workflow``."""

    name = "csv"

    def accepts(self, source: str) -> bool:
        p = Path(source)
        return p.suffix.lower() == ".csv" or (p.is_file() and not zipfile.is_zipfile(p))

    def read(
        self, source: str, *, workflow: str | None = None, on_error: OnError | None = None
    ) -> Iterator[Run]:
        yield _named(load_run(source), workflow)

    def count(self, source: str) -> int:
        return 1


class _LoaderReader:
    """Reads with the CSV loader: a tree or an archive of run CSVs."""

    def read(
        self, source: str, *, workflow: str | None = None, on_error: OnError | None = None
    ) -> Iterator[Run]:
        for run in iter_runs(source, on_error=on_error):
            yield _named(run, workflow)

    def count(self, source: str) -> int:
        return count_runs(source)


class DirectoryReader(_LoaderReader):
    """A directory tree of run CSVs (e.g. Flow-Bench's ``<label>/<workflow>-runNNNN.csv``)."""

    name = "directory"

    def accepts(self, source: str) -> bool:
        return Path(source).is_dir()


class ZipReader(_LoaderReader):
    """A zip archive of run CSVs."""

    name = "zip"

    def accepts(self, source: str) -> bool:
        p = Path(source)
        return p.suffix.lower() == ".zip" or (p.is_file() and zipfile.is_zipfile(p))


def readers(*, plugins: bool = True) -> list[Reader]:
    """Every reader, in the order they are asked: other distributions' (when ``plugins``), then
    the built-ins."""
    own_eps, other_eps = group_entry_points(GROUP, plugins=plugins)
    own: dict[str, Reader] = {}
    others: list[Reader] = []
    for ep in [*own_eps, *other_eps]:
        try:
            obj = ep.load()
            reader = obj() if isinstance(obj, type) else obj
        except Exception:  # a broken plugin never hides the built-ins
            continue
        if isinstance(reader, Reader):
            (own.__setitem__(ep.name, reader) if ep in own_eps else others.append(reader))
    if not own:  # an install that predates the entry points
        from flowsleuth.workflows.pegasus.seam import PegasusReader

        own = {
            "pegasus": PegasusReader(),
            "zip": ZipReader(),
            "csv": CsvReader(),
            "directory": DirectoryReader(),
        }
    return [*others, *(own[n] for n in BUILTIN_ORDER if n in own)]


def reader_for(source: str | Path, *, plugins: bool = True) -> Reader:
    """The first reader that accepts ``source``; a missing path is a one-line error."""
    text = str(source)
    known = readers(plugins=plugins)
    found = [r for r in known if r.accepts(text)]
    if found:
        return found[0]
    if "://" not in text and not Path(text).exists():
        raise DataError(text, "no such file or directory")
    raise DataError(text, f"no reader accepts it (readers: {', '.join(r.name for r in known)})")


def open_runs(
    source: str | Path,
    *,
    workflow: str | None = None,
    on_error: OnError | None = None,
    plugins: bool = True,
) -> Iterator[Run]:
    """The runs at ``source``, read by the reader that accepts it."""
    yield from reader_for(source, plugins=plugins).read(str(source), workflow=workflow, on_error=on_error)


def open_run(
    source: str | Path,
    *,
    workflow: str | None = None,
    job_id: str | None = None,
    run_id: str | None = None,
    plugins: bool = True,
) -> Run:
    """The one run at ``source``. A source holding several (a hierarchical Pegasus workflow has
    one per sub-workflow) needs ``run_id``, or ``job_id``: the run holding that job is chosen."""
    runs = list(open_runs(source, workflow=workflow, plugins=plugins))
    if not runs:
        raise DataError(str(source), "holds no run")
    if run_id is not None:
        named = [r for r in runs if r.run_id == run_id]
        if not named:
            ids = ", ".join(r.run_id for r in runs[:5]) + (", ..." if len(runs) > 5 else "")
            raise DataError(str(source), f"no run {run_id!r} (its runs: {ids})")
        return named[0]
    if len(runs) == 1:
        return runs[0]
    if job_id is not None:
        holding = [r for r in runs if job_id in r.frame.index]
        if len(holding) == 1:
            return holding[0]
        if not holding:
            return runs[0]  # the caller's run.job(job_id) names the close matches
        ids = ", ".join(r.run_id for r in holding)
        raise DataError(str(source), f"job {job_id!r} is in several runs ({ids}); name one with --run")
    raise DataError(str(source), "holds several runs; name one with --run")


def unknown_workflow_note(run: Run) -> str | None:
    """A note for a run whose workflow is not known (per-workflow models are not used)."""
    if run.workflow != UNKNOWN_WORKFLOW:
        return None
    return (
        f"the workflow of {run.run_id} is unknown (name it with --workflow): it is judged as "
        "an unseen workflow, without per-workflow models, history or labels"
    )
