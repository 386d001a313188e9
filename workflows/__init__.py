"""The domain core: runs and jobs, labels, loading, sentences, splits, run context, DAGs."""

from flowsleuth.workflows.errors import DataError, FlowsleuthError
from flowsleuth.workflows.labels import AnomalyKind, Label, parse_label
from flowsleuth.workflows.loader import iter_runs, load_run, load_runs
from flowsleuth.workflows.models import Job, Run, UnknownJobError

__all__ = [
    "AnomalyKind",
    "DataError",
    "FlowsleuthError",
    "Job",
    "Label",
    "Run",
    "UnknownJobError",
    "iter_runs",
    "load_run",
    "load_runs",
    "parse_label",
]
