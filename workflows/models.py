"""Typed models of a workflow run and its jobs.

A :class:`Run` keeps its jobs as a pandas frame (fast, vectorised) and keeps the ground-truth
labels *apart* from that frame, so no feature built from ``run.frame`` can ever see them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.jobstatus import JobStatus
from flowsleuth.workflows.labels import Label, parse_label
from flowsleuth.workflows.schema import NUMERIC_COLUMNS, PAPER_FEATURES, TIMESTAMPS
from pydantic import BaseModel, ConfigDict, Field

UNKNOWN_WORKFLOW = "unknown"


class UnknownJobError(FlowsleuthError):
    pass


class Job(BaseModel):
    """One job (DAG node) of a run, as the tools and the agent see it."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    workflow: str
    run_id: str
    job_type: str = Field(description="Pegasus job type: compute, transfer or auxiliary")
    transformation: str
    host: str
    executable: str = ""
    argv: str = ""
    features: dict[str, float] = Field(description="numeric features; NaN where missing")
    timestamps: dict[str, float] = Field(description="epoch seconds; NaN where missing")
    label: Label | None = Field(default=None, description="ground truth, when the run has it")
    status: JobStatus | None = Field(
        default=None, description="recorded state, exit code, retries, output tails (Pegasus input)"
    )

    def feature(self, name: str) -> float | None:
        """The feature's value, or None when it is missing or NaN."""
        value = self.features.get(name, math.nan)
        return None if math.isnan(value) else value


@dataclass(frozen=True)
class Run:
    """One workflow run: its jobs, indexed by DAG node id, and its labels when known."""

    workflow: str
    run_id: str
    source: str
    frame: pd.DataFrame
    labels: pd.Series | None = None  # ground truth, kept out of ``frame``
    injected: str | None = None  # the anomaly injected into the whole run: 'hdd_5', 'None', …
    status: pd.DataFrame | None = None  # per-job JobStatus columns (Pegasus input), kept out of ``frame``
    parent_run: str | None = None  # the run of the parent workflow, for a Pegasus sub-workflow
    notes: tuple[str, ...] = ()  # data problems found while loading (implausible values)

    def status_of(self, node_id: str) -> JobStatus | None:
        if self.status is None or node_id not in self.status.index:
            return None
        row = self.status.loc[node_id].to_dict()
        return JobStatus.model_validate({k: (None if _isnan(v) else v) for k, v in row.items()})

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def job_ids(self) -> list[str]:
        return [str(i) for i in self.frame.index]

    @property
    def hosts(self) -> list[str]:
        return sorted(self.frame["kickstart_hostname"].dropna().unique().tolist())

    @property
    def injected_label(self) -> Label | None:
        return parse_label(self.injected) if self.injected is not None else None

    def label_of(self, node_id: str) -> Label | None:
        if self.labels is None:
            return None
        return parse_label(str(self.labels.loc[node_id]))

    def job(self, node_id: str) -> Job:
        """The job with this DAG node id; raises :class:`UnknownJobError` naming close matches."""
        if node_id not in self.frame.index:
            close = [j for j in self.job_ids if node_id.lower() in j.lower()][:5]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownJobError(
                f"{self.source}: no job {node_id!r} in run {self.run_id} ({len(self)} jobs){hint}"
            )
        row: dict[Any, Any] = self.frame.loc[node_id].to_dict()
        return Job(
            node_id=node_id,
            workflow=self.workflow,
            run_id=self.run_id,
            job_type=str(row["type"]),
            transformation=str(row["kickstart_transformations"]),
            host=str(row["kickstart_hostname"]),
            executable=str(row.get("kickstart_executables", "") or ""),
            argv=str(row.get("kickstart_executables_argv", "") or ""),
            features={c: float(row[c]) for c in NUMERIC_COLUMNS if c not in TIMESTAMPS},
            timestamps={c: float(row[c]) for c in TIMESTAMPS},
            label=self.label_of(node_id),
            status=self.status_of(node_id),
        )

    def jobs(self) -> list[Job]:
        return [self.job(j) for j in self.job_ids]

    def paper_features(self) -> pd.DataFrame:
        return self.frame.loc[:, list(PAPER_FEATURES)]

    def without_labels(self) -> Run:
        return dataclasses.replace(self, labels=None, injected=None)


def _isnan(v: object) -> bool:
    return isinstance(v, float) and math.isnan(v)
