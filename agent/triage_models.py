"""The stable output schema of triage: one row per job, one summary per run."""

from __future__ import annotations

from flowsleuth.tools.diagnosis.schema import CulpritHost
from pydantic import BaseModel, Field

SCHEMA_VERSION = 1


class TriageRow(BaseModel):
    """One job of a triaged run. This is the documented JSONL schema (one object per line)."""

    workflow: str
    run: str = Field(description="run id, e.g. 'montage-run0747'")
    job_id: str = Field(description="DAG node id")
    transformation: str
    host: str
    is_anomalous: bool
    score: float | None = Field(description="calibrated P(anomalous), fused from the tools")
    anomaly_class: str = Field(description="'None' when normal, else e.g. 'cpu', 'hdd_5', 'unknown'")
    culprit: str | None = Field(description="host most likely at fault, when anomalous")
    explanation: str | None = Field(description="filled for the top --explain flagged jobs, else null")
    tier: str | None = Field(
        default=None,
        description="what the verdict rests on: 'trained (known workflow)', 'zero-shot', "
        "'history (n runs)' or 'labelled (n runs)'",
    )


class RunTriage(BaseModel):
    """Run-level summary plus the per-job rows."""

    schema_version: int = SCHEMA_VERSION
    workflow: str
    run: str
    source: str
    n_jobs: int
    n_flagged: int
    share_flagged: float
    anomaly_kind: str = Field(description="run-level diagnosis: normal, cpu or hdd")
    anomaly_class: str = Field(description="run-level class, e.g. 'hdd_5'; 'None' when normal")
    kind_confidence: float | None = None
    culprits: list[CulpritHost] = Field(default_factory=list)
    threshold: float
    tier: str | None = Field(default=None, description="what the verdicts rest on (see TriageRow.tier)")
    notes: list[str] = Field(default_factory=list, description="what the verdicts lack, e.g. no history")
    rows: list[TriageRow]
