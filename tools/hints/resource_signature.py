"""Hint: does the job look like CPU contention, slow disk I/O, or a scheduler-side delay?"""

from __future__ import annotations

import math

import numpy as np
from flowsleuth.tools.hints._common import finite, rnd, tf_medians
from flowsleuth.workflows.contract import Finding, Subject, ToolResult
from flowsleuth.workflows.models import Job

NAME = "resource_signature"
THRESHOLD = math.log(1.5)  # mean log-ratio that counts as a signature

# feature -> (run column, +1 when "higher is worse", -1 when "lower is worse")
GROUPS: dict[str, dict[str, tuple[str, int]]] = {
    "cpu": {
        "runtime": ("runtime", 1),
        "cpu_time": ("kickstart_executables_cpu_time", 1),
        "utime": ("kickstart_online_utime", 1),
    },
    "io": {
        "stage_in_delay": ("stage_in_delay", 1),
        "stage_out_delay": ("stage_out_delay", 1),
        "iowait": ("kickstart_online_iowait", 1),
        "read_bps": ("kickstart_online_bytes_read_per_second", -1),
        "stage_in_bps": ("stage_in_effective_bytes_per_sec", -1),
    },
    "scheduler": {
        "queue_delay": ("queue_delay", 1),
        "wms_delay": ("wms_delay", 1),
    },
}


def _log_ratio(job: Job, subject: Subject, col: str) -> float | None:
    """log((job + 1) / (median of its transformation in the run + 1))."""
    value = finite(job.features.get(col))
    median = finite(tf_medians(subject, col).get(job.transformation))
    if value is None or median is None:
        return None
    return math.log((max(value, 0.0) + 1.0) / (max(median, 0.0) + 1.0))


def resource_signature(subject: Subject) -> ToolResult:
    """CPU contention, throttled disk I/O, or a scheduler-side delay: which fits this job?

    Classifies the job's slowdown as "cpu" (CPU contention: higher runtime and cpu/user time),
    "io" (throttled disk: longer stage-in/out, more iowait, fewer bytes/s), "scheduler" (queue
    or WMS delay: waiting before it ran, not the node's fault) or "none".

    Each feature is compared with the median of the same transformation in this run, as a
    log-ratio (0 = typical, log(2) = 0.69 = twice as bad; bytes/s is sign-flipped so positive
    is always worse). `scores[group]` is the mean over the group's available features (for cpu, at least the
    runtime's log-ratio, since contention stretches wall time at equal cpu time), the
    signature is the group with the highest score above log(1.5) = 0.405, and `drivers` lists the
    features above that threshold. no_data when the job has none of the features.
    """
    job = subject.job
    ratios: dict[str, float | None] = {}
    scores: dict[str, float | None] = {}
    for group, feats in GROUPS.items():
        vals = []
        for short, (col, sign) in feats.items():
            lr = _log_ratio(job, subject, col)
            ratios[short] = rnd(sign * lr) if lr is not None else None
            if lr is not None:
                vals.append(sign * lr)
        scores[group] = rnd(float(np.mean(vals))) if vals else None
    # CPU contention stretches wall time even when cpu time stays put (the work is the same).
    if ratios["runtime"] is not None:
        scores["cpu"] = max(scores["cpu"] or -np.inf, ratios["runtime"])
    data: dict[str, object] = {"scores": scores, "log_ratios": ratios, "threshold": rnd(THRESHOLD)}
    present = {g: s for g, s in scores.items() if s is not None}
    if not present:
        return ToolResult.no_data(NAME, f"{job.node_id} has no resource features", data=data, job=job.node_id)
    group, best = max(present.items(), key=lambda kv: kv[1])
    signature = group if best >= THRESHOLD else "none"
    drivers = sorted(
        (k for k, v in ratios.items() if v is not None and v >= THRESHOLD), key=lambda k: -(ratios[k] or 0.0)
    )
    data.update(signature=signature, drivers=drivers)
    if signature == "none":
        summary = f"{job.node_id}: no resource signature (every group within 1.5x of its peers)"
        finding = Finding(
            about="signature",
            text="no cpu, disk or scheduler signature (every group close to the run's median)",
            direction="same",
        )
    else:
        times = {k: round(math.exp(ratios[k] or 0.0), 1) for k in drivers[:4]}
        detail = ", ".join(f"{k} {v:.1f}x" for k, v in times.items())
        summary = f"{job.node_id}: {signature} signature ({detail or 'group mean'} vs the run's median)"
        finding = Finding(
            about="signature",
            text=f"{signature} signature: {detail or 'group mean'} the run's median (higher)",
            numbers=list(times.values()),
            direction="higher",
        )
    return ToolResult.ok(NAME, data, summary, findings=[finding], job=job.node_id)
