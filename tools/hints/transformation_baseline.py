"""Hint: where does this job sit against the normal profile of its transformation?"""

from __future__ import annotations

import numpy as np
from flowsleuth.tools.hints._common import column, finite, rnd
from flowsleuth.workflows.contract import Finding, Subject, ToolResult

NAME = "transformation_baseline"

FEATURES: dict[str, str] = {
    "runtime": "runtime",
    "cpu_time": "kickstart_executables_cpu_time",
    "stage_in_delay": "stage_in_delay",
    "stage_out_delay": "stage_out_delay",
    "iowait": "kickstart_online_iowait",
}


def _in_run_percentile(values: np.ndarray, value: float) -> float | None:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None
    return float(100.0 * ((values < value).sum() + 0.5 * (values == value).sum()) / len(values))


def transformation_baseline(subject: Subject) -> ToolResult:
    """Where does this job sit against the normal profile of its transformation (percentiles)?

    Percentiles of the job's runtime, cpu time, stage-in/out delay and iowait against the
    profile of its transformation learned from normal training runs. `percentiles[f]` is
    0-100: 50 is typical, above 95 is unusually high for a normal run.
    `reference` says what the job was compared with: "baseline" (normal training runs of this
    workflow) or "run" (the run's own jobs of the same transformation, used when the workflow or
    transformation is unknown to the baseline; then 50 means "like the rest of this run", and a
    run-wide slowdown cannot show). `vs_run_median[f]` is always the job's value over the median
    of its transformation in this run (1 = typical). Features the job lacks are listed in `missing`;
    no_data when it lacks all of them.
    """
    job = subject.job
    profile = subject.baseline
    known = profile is not None and profile.lookup(job.workflow, job.transformation, "runtime") is not None
    frame = subject.run.frame
    same_tf = frame["kickstart_transformations"].fillna("") == job.transformation
    percentiles: dict[str, float | None] = {}
    values: dict[str, float | None] = {}
    missing: list[str] = []
    vs_run: dict[str, float | None] = {}
    for short, col in FEATURES.items():
        value = finite(job.features.get(col))
        values[short] = value
        if value is None:
            missing.append(short)
            continue
        peers = column(frame, col)[same_tf].to_numpy()
        peers = peers[np.isfinite(peers)]
        if len(peers):
            vs_run[short] = rnd((value + 1.0) / (float(np.median(peers)) + 1.0))
        if known and profile is not None:
            pct = profile.percentile(job.workflow, job.transformation, col, value)
        else:
            pct = _in_run_percentile(peers, value)
        percentiles[short] = rnd(pct, 1)
    reference = "baseline" if known else "run"
    data = {
        "reference": reference,
        "transformation": job.transformation,
        "values": values,
        "percentiles": percentiles,
        "vs_run_median": vs_run,
        "missing": missing,
    }
    scored = {k: v for k, v in percentiles.items() if v is not None}
    if not scored:
        return ToolResult.no_data(
            NAME, f"{job.node_id} has none of {', '.join(FEATURES)}", data=data, job=job.node_id
        )
    high = sorted((k for k, v in scored.items() if v >= 95), key=lambda k: -scored[k])
    against = ("normal runs of " if known else "this run's own ") + job.transformation
    if not known:
        against += " jobs (no normal profile for this workflow)"
    top = ", ".join(f"{k} p{scored[k]:.0f}" for k in high) if high else "nothing above p95"
    summary = f"{job.node_id} against {against}: {top}"
    findings = [
        Finding(
            about="baseline",
            text=f"{k} at percentile {scored[k]:.0f} of {against}"
            + (" (above p95: unusually high)" if scored[k] >= 95 else " (within the normal range)"),
            numbers=[round(scored[k])],
            direction="higher" if scored[k] >= 95 else "same",
        )
        for k in (high or sorted(scored, key=lambda k: -scored[k]))[:2]
    ]
    return ToolResult.ok(NAME, data, summary, findings=findings, job=job.node_id, reference=reference)
