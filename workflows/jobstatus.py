"""What a workflow system recorded about a job's life: state, exit code, retries, output tails.

Flow-Bench CSVs carry none of this; real Pegasus runs do. It is kept beside the features (like the
labels), so a run without it behaves exactly as before.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["succeeded", "failed", "running", "unsubmitted"]
STATUS_COLUMNS: tuple[str, ...] = (
    "outcome",
    "state",
    "exit_code",
    "retries",
    "held",
    "held_reason",
    "kickstart_status",
    "stdout_tail",
    "stderr_tail",
    "pegasus_type",
)


class JobStatus(BaseModel):
    """One job's recorded life, from the stampede DB or ``jobstate.log`` + kickstart records."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome = Field(
        description="pegasus-analyzer's reading of the last try: exit code 0 succeeded, non-zero "
        "failed, no exit code yet running, no try at all unsubmitted"
    )
    state: str | None = Field(description="last job state, e.g. POST_SCRIPT_FAILED, JOB_HELD")
    exit_code: int | None = Field(description="exit code of the failing task (or the job), regular form")
    retries: int = Field(description="tries after the first (job_submit_seq count - 1)")
    held: bool = Field(description="the last try was held (JOB_HELD)")
    held_reason: str | None = None
    kickstart_status: int | None = Field(
        default=None, description="kickstart's raw status of the main task (0 ok; 512 = exit 2)"
    )
    stdout_tail: str = Field(default="", description="last lines of the job's stdout, as data")
    stderr_tail: str = Field(default="", description="last lines of the job's stderr, as data")
    pegasus_type: str = Field(default="", description="Pegasus job type_desc: compute, stage-in-tx, dax …")

    @property
    def problem(self) -> Literal["held", "failure", "retried"] | None:
        """The anomaly class this record alone proves, worst first; None for a clean job."""
        if self.held:
            return "held"
        if self.outcome == "failed" or (self.state or "").endswith(("_FAILED", "FAILURE", "ABORTED")):
            return "failure"
        if self.retries > 0:
            return "retried"
        return None


class RunCounts(BaseModel):
    """pegasus-analyzer's summary of one workflow."""

    total: int
    succeeded: int
    failed: int
    held: int
    unsubmitted: int = Field(description="neither succeeded nor failed: never submitted, or running")
    running: int = Field(description="of the unsubmitted, those with a try that has no exit code yet")
    retried: int = Field(description="jobs that needed more than one try")


def run_counts(status: pd.DataFrame) -> RunCounts:
    oc = status["outcome"]
    return RunCounts(
        total=len(status),
        succeeded=int((oc == "succeeded").sum()),
        failed=int((oc == "failed").sum()),
        held=int(status["held"].sum()),
        unsubmitted=int(oc.isin(["unsubmitted", "running"]).sum()),
        running=int((oc == "running").sum()),
        retried=int((status["retries"] > 0).sum()),
    )
