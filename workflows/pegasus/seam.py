"""The Pegasus reader on the ``flowsleuth.readers`` seam: submit dirs, stampede DB files, DB URLs,
and archive trees of submit dirs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.names import canonical_workflow
from flowsleuth.workflows.pegasus.submitdir import is_pegasus_source
from flowsleuth.workflows.pegasus.tree import Walk, is_pegasus_archive, walk_archive


class PegasusReader:
    """Real Pegasus runs: a submit directory, a ``*.stampede.db`` file, a database URL
    (sqlite:///, mysql://, postgresql://), or a directory tree holding submit directories (a
    submit host's archive; see :mod:`.tree` and :mod:`.archive`). One run per workflow in a DB:
    the workflow is its ``dax_label``, the run id its ``wf_uuid``; a sub-workflow's
    ``parent_run`` is its parent's."""

    name = "pegasus"

    def __init__(self) -> None:
        self._walks: dict[str, Walk] = {}  # count() then read() walk an archive once

    def accepts(self, source: str) -> bool:
        return is_pegasus_source(source) or is_pegasus_archive(source)

    def _archive(self, source: str) -> Walk | None:
        if is_pegasus_source(source):
            return None
        if source not in self._walks:
            self._walks[source] = walk_archive(Path(source))
        return self._walks[source]

    def read(
        self, source: str, *, workflow: str | None = None, on_error: Callable[[DataError], None] | None = None
    ) -> Iterator[Run]:
        walk = self._archive(source)
        if walk is not None:
            from flowsleuth.workflows.pegasus.archive import iter_archive_runs

            self._walks.pop(source, None)  # a later read walks again (the tree may have grown)
            runs = iter_archive_runs(walk, on_error)
        else:
            from flowsleuth.workflows.pegasus.reader import iter_pegasus_runs  # the DB stack, only now

            # One DB is read as a whole: a DB that cannot be read is one error, not per-run skips.
            runs = iter_pegasus_runs(source)
        for run in runs:
            yield run if workflow is None else replace(run, workflow=canonical_workflow(workflow))

    def count(self, source: str) -> int:
        """An archive: its submit dirs and CSVs (a hierarchical run yields one run more per
        sub-workflow). One submit dir or DB: 0, unknown without reading the DB."""
        walk = self._archive(source)
        return len(walk.items) if walk is not None else 0
