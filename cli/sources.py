"""``triage PATH...``: the runs of one or several sources, in argument order.

Every path is checked before anything is read (a missing one is a usage error). With several,
a source that cannot be read at all (a broken submit directory) is reported like a bad run of
a directory and the rest go on, and a Pegasus run given twice (two copies of a submit
directory, or one path twice) is triaged once, as inside one archive."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run

OnError = Callable[[DataError], None]


class Sources:
    """The readers of ``paths`` (chosen once, up front), their run count and their runs."""

    def __init__(self, paths: list[str], *, plugins: bool) -> None:
        from flowsleuth.workflows.readers import reader_for

        self.paths = paths
        self.readers = [reader_for(p, plugins=plugins) for p in paths]

    def count(self) -> int:
        """Runs the progress bar expects; with several paths, a source whose count is unknown
        (one submit directory) counts one."""
        counts = [r.count(p) for p, r in zip(self.paths, self.readers, strict=True)]
        return counts[0] if len(counts) == 1 else sum(max(c, 1) for c in counts)

    def read(self, *, workflow: str | None, on_error: OnError) -> Iterator[Run]:
        if len(self.paths) == 1:  # one source: its own errors, exactly as before
            yield from self.readers[0].read(self.paths[0], workflow=workflow, on_error=on_error)
            return
        from flowsleuth.workflows.pegasus.archive import first_copies

        yield from first_copies(self._each(workflow, on_error), on_error)

    def _each(self, workflow: str | None, on_error: OnError) -> Iterator[Run]:
        for path, reader in zip(self.paths, self.readers, strict=True):
            try:
                yield from reader.read(path, workflow=workflow, on_error=on_error)
            except DataError as err:
                on_error(err)


def one_csv(paths: list[str]) -> bool:
    """One run CSV: ``triage`` explains its top jobs by default."""
    p = Path(paths[0])
    return len(paths) == 1 and p.is_file() and p.suffix.lower() == ".csv"
