"""Real Pegasus runs: submit directories, stampede databases (SQLite, MySQL, PostgreSQL), live or done."""

from flowsleuth.workflows.jobstatus import RunCounts, run_counts
from flowsleuth.workflows.pegasus.reader import is_pegasus_source, iter_pegasus_runs

__all__ = ["RunCounts", "is_pegasus_source", "iter_pegasus_runs", "run_counts"]
