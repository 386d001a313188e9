"""``flowsleuth watch SUBMIT_DIR|DB|URL``: follow a running Pegasus workflow through its stampede DB.

Read-only polling. One JSON line per event: a verdict per newly finished job (the same decision
triage makes), a ``held`` line when a job is held, a ``stall`` line when no job changed state
for ``--stall-after`` minutes while jobs are queued. A DB deleted or replaced mid-watch ends the
watch with one clear line (exit 1).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import typer
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.pegasus.live import LiveEvent, StampedeFollower

Score = Callable[[Run], dict[str, dict[str, Any]]]


def _line(event: LiveEvent, rows: dict[str, dict[str, Any]], latency_ms: float) -> list[dict[str, Any]]:
    run = event.run
    if event.kind == "finished":
        out = []
        for job in event.job_ids:
            st = run.status_of(job)
            extra = {"state": st.state, "exit_code": st.exit_code, "retries": st.retries} if st else {}
            out.append(
                {"event": "finished", **rows.get(job, {}), **extra, "latency_ms": round(latency_ms, 1)}
            )
        return out
    if event.kind == "held":
        return [
            {
                "event": "held",
                "workflow": run.workflow,
                "run": run.run_id,
                "job_id": job,
                "reason": (st.held_reason if (st := run.status_of(job)) else None),
            }
            for job in event.job_ids
        ]
    return [
        {
            "event": "stall",
            "workflow": run.workflow,
            "run": run.run_id,
            "queued_jobs": list(event.job_ids),
            "detail": event.detail,
        }
    ]


def watch_pegasus(
    source: str,
    score: Score,
    *,
    interval: float,
    stall_after_min: float,
    idle_exit: float | None,
) -> None:
    """Poll until ``idle_exit`` seconds pass with no change (forever when None)."""
    follower = StampedeFollower(source, stall_after_s=stall_after_min * 60)
    last_event = time.monotonic()
    while True:
        t0 = time.perf_counter()
        events = list(follower.poll())
        scored: dict[str, dict[str, dict[str, Any]]] = {}
        for ev in events:
            if ev.kind == "finished" and ev.run.run_id not in scored:
                scored[ev.run.run_id] = score(ev.run)
        latency = (time.perf_counter() - t0) * 1000
        for ev in events:
            for line in _line(ev, scored.get(ev.run.run_id, {}), latency):
                typer.echo(json.dumps(line, default=str))
        if events:
            last_event = time.monotonic()
        if idle_exit is not None and time.monotonic() - last_event > idle_exit:
            return
        time.sleep(interval)
