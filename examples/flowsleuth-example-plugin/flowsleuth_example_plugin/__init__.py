"""An example flowsleuth plugin: one hint tool, registered through ``register_tools``."""

from __future__ import annotations

import math
from typing import Any

from flowsleuth.workflows.contract import Subject, ToolResult

NAME = "long_queue"


def long_queue(subject: Subject) -> ToolResult:
    """Did this job wait unusually long in the batch queue, compared with the run's other jobs?

    Returns the job's `queue_delay` in seconds, the run's median queue delay, their ratio
    (`vs_run_median`, 1 = typical), and the share of the run's jobs that waited less
    (`percentile`, 0-100). A long queue wait is the scheduler's doing, not the node's.
    no_data when the job has no queue delay.
    """
    job = subject.job
    value = job.feature("queue_delay")
    if value is None:
        return ToolResult.no_data(NAME, f"{job.node_id} has no queue delay", job=job.node_id)
    delays = subject.run.frame["queue_delay"].astype(float).dropna()
    median = float(delays.median())
    percentile = float(100.0 * (delays < value).mean())
    ratio = (value + 1.0) / (median + 1.0)
    data: dict[str, Any] = {
        "queue_delay": value,
        "run_median_queue_delay": median,
        "vs_run_median": round(ratio, 3),
        "percentile": round(percentile, 1),
    }
    long = ratio >= 2.0 and not math.isclose(value, median)
    summary = (
        f"{job.node_id} waited {value:.0f} s in the queue, {ratio:.2f}x the run's median "
        f"({'long' if long else 'typical'})"
    )
    return ToolResult.ok(NAME, data, summary, job=job.node_id)


def register_tools(register: Any) -> None:
    """flowsleuth calls this with its ``register`` (the plugin's source is recorded for you)."""
    register(long_queue, name=NAME, kind="hint")
