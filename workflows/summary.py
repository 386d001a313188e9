"""A run at a glance: what ``flowsleuth data info`` prints."""

from __future__ import annotations

import numpy as np
import pandas as pd
from flowsleuth.workflows.jobstatus import RunCounts, run_counts
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.schema import PAPER_FEATURES, TIMESTAMPS
from pydantic import BaseModel, Field


class RunSummary(BaseModel):
    source: str
    workflow: str
    run_id: str
    injected: str | None = Field(description="anomaly injected into the run, when known")
    jobs: int
    hosts: int
    transformations: dict[str, int]
    job_types: dict[str, int]
    labels: dict[str, int] | None = Field(description="ground-truth label counts, when present")
    start: float | None = Field(description="earliest timestamp, epoch seconds")
    end: float | None = Field(description="latest timestamp, epoch seconds")
    span_s: float | None
    missing_features: dict[str, int] = Field(description="NaN count per paper feature")
    job_states: RunCounts | None = Field(
        default=None, description="recorded outcomes as pegasus-analyzer counts them (Pegasus input)"
    )
    parent_run: str | None = Field(default=None, description="the parent workflow's run (sub-workflow)")


def _counts(values: object) -> dict[str, int]:
    vc = pd.Series(values).value_counts()
    return {str(k): int(v) for k, v in vc.items()}


def summarize(run: Run) -> RunSummary:
    ts = run.frame.loc[:, list(TIMESTAMPS)].to_numpy(dtype=float)
    finite = ts[np.isfinite(ts)]
    start = float(finite.min()) if finite.size else None
    end = float(finite.max()) if finite.size else None
    nan_counts = run.frame.loc[:, list(PAPER_FEATURES)].isna().sum()
    return RunSummary(
        source=run.source,
        workflow=run.workflow,
        run_id=run.run_id,
        injected=run.injected,
        jobs=len(run),
        hosts=len(run.hosts),
        transformations=_counts(run.frame["kickstart_transformations"]),
        job_types=_counts(run.frame["type"]),
        labels=_counts(run.labels) if run.labels is not None else None,
        start=start,
        end=end,
        span_s=(end - start) if start is not None and end is not None else None,
        missing_features={str(k): int(v) for k, v in nan_counts.items() if v},
        job_states=run_counts(run.status) if run.status is not None else None,
        parent_run=run.parent_run,
    )
