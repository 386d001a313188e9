"""The diagnosis as the CLI and the agent receive it (pydantic, every number measured)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CulpritHost(BaseModel):
    host: str
    confidence: float = Field(description="P(this host carries the anomaly), calibrated")
    n_jobs: int = Field(description="jobs of the run on this host")


class RunDiagnosis(BaseModel):
    """Which anomaly hit the run, where, and how sure the measured models are."""

    run_id: str
    workflow: str
    kind: str = Field(description="normal, cpu or hdd")
    label: str = Field(description="class label: None, cpu_K or hdd_K")
    severity: int | None = Field(default=None, description="K of cpu_K (cores) or hdd_K (MB/s)")
    kind_confidence: float = Field(description="P(kind), summed over severities")
    label_confidence: float = Field(description="P(label)")
    class_probabilities: dict[str, float]
    culprits: list[CulpritHost] = Field(default_factory=list, description="most likely first")
    host_scores: dict[str, float] = Field(
        default_factory=dict, description="every host: P(carries the anomaly | run anomalous)"
    )
    share_of_jobs_affected: float = Field(description="jobs on culprit hosts / all jobs")
    n_jobs: int
    n_hosts: int
    baseline_used: bool = Field(description="False: unknown workflow, only in-run comparisons")
    evidence: dict[str, float] = Field(default_factory=dict, description="numbers behind it")
    notes: list[str] = Field(default_factory=list, description="what the data cannot show")


class JobDiagnosis(BaseModel):
    """One job: is its host a culprit, of which anomaly, and what the hints measured."""

    run_id: str
    node_id: str
    host: str
    transformation: str
    kind: str = Field(description="normal, cpu or hdd: the job's predicted label kind")
    label: str = Field(description="None, cpu_K or hdd_K")
    confidence: float = Field(description="P(this job carries the predicted label)")
    host_confidence: float = Field(description="P(the job's host is a culprit | run anomalous)")
    run: RunDiagnosis
    signature: str | None = Field(default=None, description="resource signature hint: cpu/io/…")
    hints: dict[str, str] = Field(default_factory=dict, description="tool -> one-line summary")
    notes: list[str] = Field(default_factory=list)
