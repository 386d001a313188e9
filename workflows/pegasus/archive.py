"""Read an archive tree of runs (see :mod:`.tree`): each submit directory and each run CSV in
sorted path order, as if each were triaged alone.

- A submit directory or CSV that cannot be read is handed to ``on_error`` (one line) and the
  rest go on; so is a directory the walk could not search.
- A Pegasus run is its ``wf_uuid``: a copy of a submit directory (same ``wf_uuid``) is triaged
  once, from the first path in sorted order; each later copy's workflow is reported through
  ``on_error``, naming the first, so the output never holds two runs under one id
  (:func:`first_copies`; ``triage`` applies it across its PATH arguments too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.pegasus.tree import Found, Walk

OnError = Callable[[DataError], None]


def _report(err: DataError, on_error: OnError | None) -> None:
    if on_error is None:
        raise err
    on_error(err)


def _submit_dir_runs(path: Path, on_error: OnError | None) -> Iterator[Run]:
    from flowsleuth.workflows.pegasus.reader import iter_pegasus_runs

    try:
        yield from iter_pegasus_runs(path)
    except DataError as err:
        _report(err, on_error)
    except Exception as err:
        first_line = (str(err).strip().splitlines() or [""])[0][:160]
        _report(DataError(path, f"cannot be read ({type(err).__name__}: {first_line})"), on_error)


def first_copies(runs: Iterable[Run], on_error: OnError | None = None) -> Iterator[Run]:
    """``runs`` less later copies of a Pegasus run (``status`` set: its id is the source's own
    ``wf_uuid``); each copy is reported, naming the first. Run CSVs pass as they are: their id
    is a file name, which label directories legitimately repeat."""
    seen: dict[str, str] = {}
    for run in runs:
        if run.status is not None:
            if run.run_id in seen:
                first = seen[run.run_id]
                _report(
                    DataError(
                        run.source,
                        f"duplicate wf_uuid {run.run_id}: a copy of {first}, which is triaged instead",
                    ),
                    on_error,
                )
                continue
            seen[run.run_id] = run.source
        yield run


def _csv_run(found: Found, on_error: OnError | None) -> Iterator[Run]:
    from flowsleuth.workflows.loader import load_run

    try:
        yield load_run(found.path)
    except DataError as err:
        _report(err, on_error)


def iter_archive_runs(walk: Walk, on_error: OnError | None = None) -> Iterator[Run]:
    """The runs of a walked archive, in its order; see the module for errors and copies."""
    for problem in walk.problems:
        _report(problem, on_error)
    yield from first_copies(_each_run(walk, on_error), on_error)


def _each_run(walk: Walk, on_error: OnError | None) -> Iterator[Run]:
    for found in walk.items:
        if found.kind == "csv":
            yield from _csv_run(found, on_error)
        else:
            yield from _submit_dir_runs(found.path, on_error)
