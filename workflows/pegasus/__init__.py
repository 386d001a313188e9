"""Real Pegasus runs: submit directories, stampede databases (SQLite, MySQL, PostgreSQL), live or done.

``iter_pegasus_runs`` is imported on first use: the reader seam imports this package on every
command, and the DB stack behind the reader is ~0.4 s of imports a CSV never needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowsleuth.workflows.jobstatus import RunCounts, run_counts
from flowsleuth.workflows.pegasus.submitdir import is_pegasus_source

if TYPE_CHECKING:
    from flowsleuth.workflows.pegasus.reader import iter_pegasus_runs

__all__ = ["RunCounts", "is_pegasus_source", "iter_pegasus_runs", "run_counts"]


def __getattr__(name: str) -> Any:
    if name == "iter_pegasus_runs":
        from flowsleuth.workflows.pegasus.reader import iter_pegasus_runs

        return iter_pegasus_runs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
