"""The Pegasus reader on the ``flowsleuth.readers`` seam: submit dirs, stampede DB files, DB URLs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.names import canonical_workflow
from flowsleuth.workflows.pegasus.submitdir import is_pegasus_source


class PegasusReader:
    """Real Pegasus runs: a submit directory, a ``*.stampede.db`` file, or a database URL
    (sqlite:///, mysql://, postgresql://). One run per workflow in the DB: the workflow is its
    ``dax_label``, the run id its ``wf_uuid``; a sub-workflow's ``parent_run`` is its parent's."""

    name = "pegasus"

    def accepts(self, source: str) -> bool:
        return is_pegasus_source(source)

    def read(
        self, source: str, *, workflow: str | None = None, on_error: Callable[[DataError], None] | None = None
    ) -> Iterator[Run]:
        from flowsleuth.workflows.pegasus.reader import iter_pegasus_runs  # the DB stack, only now

        # One DB is read as a whole: a DB that cannot be read is one error, not per-run skips.
        for run in iter_pegasus_runs(source):
            yield run if workflow is None else replace(run, workflow=canonical_workflow(workflow))

    def count(self, source: str) -> int:
        return 0  # unknown without reading the DB; the progress bar counts as it goes
