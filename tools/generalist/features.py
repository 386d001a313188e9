"""Workflow-agnostic job features: unit-free comparisons inside one run, and against history.

Every feature means the same in any workflow (runtimes and sizes differ by orders of magnitude
between workflows, and a new workflow's units are unknown): no absolute seconds or bytes, no
workflow or transformation identity. Three views of each measured quantity:

* **job**: log of the job's value over its transformation's median in the same run, and its rank;
* **host**: the mean of that over the host's jobs, against the other hosts of the run (difference
  to their median, robust z, rank), since labels are per host;
* **run**: how spread the run is, and how far its most unusual host sits.

With a :class:`~flowsleuth.tools.generalist.history.History` (past runs of the same workflow, no
labels) the same job and host views are also taken against the history's medians, which is what
sees disk throttling that slows every host of a run alike.

Columns that a source does not carry (a stampede DB has no ``kickstart_online_*``) give NaN
features, never an error; the tree models take NaN as "unknown".

Works on one run or on many stacked runs (a ``run_id`` column tells them apart), vectorised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from flowsleuth.workflows.schema import ONLINE_FEATURES

# short name -> run column. Derived quantities (cpu_eff, iowait_share) are added below.
QUANTITIES: dict[str, str] = {
    "runtime": "runtime",
    "cpu": "kickstart_executables_cpu_time",
    "queue": "queue_delay",
    "wms": "wms_delay",
    "post": "post_script_delay",
    "stage_in": "stage_in_delay",
    "stage_out": "stage_out_delay",
    "iowait": "kickstart_online_iowait",
    "utime": "kickstart_online_utime",
    "stime": "kickstart_online_stime",
    "read_bps": "kickstart_online_bytes_read_per_second",
    "write_bps": "kickstart_online_bytes_written_per_second",
    "stage_in_bps": "stage_in_effective_bytes_per_sec",
}
DERIVED: tuple[str, ...] = ("cpu_eff", "iowait_share", "stime_share")
# the quantities whose host view is kept (the rest only at job level, to keep the set small)
HOST_VIEW: tuple[str, ...] = (
    "runtime",
    "cpu",
    "iowait",
    "utime",
    "stime",
    "read_bps",
    "write_bps",
    "stage_in",
    "stage_in_bps",
    "cpu_eff",
    "iowait_share",
)
# what a stampede DB does not carry (Flow-Bench's kickstart_online_* counters and stage-in/out
# timings); the portable model is fitted without them
NOT_IN_STAMPEDE: tuple[str, ...] = (
    *ONLINE_FEATURES,
    "stage_in_delay",
    "stage_out_delay",
    "stage_in_bytes",
    "stage_out_bytes",
    "stage_in_effective_bytes_per_sec",
    "stage_out_effective_bytes_per_sec",
)
_MAD = 1.4826
_Z_FLOOR = 0.05
RUN_KEY = "run_id"
TF = "kickstart_transformations"
HOST = "kickstart_hostname"


def log_quantities(frame: pd.DataFrame) -> pd.DataFrame:
    """log1p of each quantity (NaN where the column is absent), plus unit-free derived shares."""
    out = pd.DataFrame(index=frame.index)
    for short, col in QUANTITIES.items():
        v = frame[col].astype(float) if col in frame.columns else pd.Series(np.nan, index=frame.index)
        out[short] = np.log1p(v.clip(lower=0))
    rt = frame["runtime"].astype(float).clip(lower=0) + 1.0
    for short, col in (
        ("cpu_eff", "kickstart_executables_cpu_time"),
        ("iowait_share", "kickstart_online_iowait"),
        ("stime_share", "kickstart_online_stime"),
    ):
        v = frame[col].astype(float) if col in frame.columns else pd.Series(np.nan, index=frame.index)
        out[short] = np.log((v.clip(lower=0) + 1.0) / rt)
    return out


def mid_rank(x: pd.DataFrame, by: pd.Series) -> pd.DataFrame:
    """Percentile rank within each group at the middle of its tie: (rank - 0.5) / n. A group of
    one sits at 0.5 (neutral); ``rank(pct=True)`` would put it at 1.0, the top, which reads as
    "the slowest of its peers" in a run with one host or a transformation with one job."""
    g = x.groupby(by)
    return (g.rank() - 0.5) / g.transform("count")


def _keys(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    run = frame[RUN_KEY].astype(str) if RUN_KEY in frame.columns else pd.Series("run", index=frame.index)
    tf = run + "\x1f" + frame[TF].fillna("").astype(str)
    host = run + "\x1f" + frame[HOST].fillna("").astype(str)
    return run, tf, host


def _host_views(prefix: str, job: pd.DataFrame, run: pd.Series, host: pd.Series) -> pd.DataFrame:
    """Host mean of ``job`` columns, vs the run's other hosts (diff to median, robust z, rank)."""
    cols = [c for c in job.columns if c.removeprefix(prefix) in HOST_VIEW]
    h = job[cols].groupby(host).mean()
    h_run = run.groupby(host).first().reindex(h.index)
    med = h.groupby(h_run).transform("median")
    diff = h - med
    mad = diff.abs().groupby(h_run).transform("median") * _MAD
    z = diff / mad.clip(lower=_Z_FLOOR)
    rank = mid_rank(h, h_run)
    parts = {"host_": h, "hostdiff_": diff, "hostz_": z, "hostrank_": rank}
    out = []
    for tag, part in parts.items():
        p = part.reindex(host.to_numpy())
        p.index = job.index
        p.columns = [f"{tag}{c}" for c in cols]
        out.append(p)
    res = pd.concat(out, axis=1)
    if prefix == "r_":
        # run shape: spread of the job view, and the most extreme host
        for c in ("r_runtime", "r_cpu_eff", "r_iowait_share", "r_read_bps"):
            if c not in job.columns:
                continue
            q = job[c].groupby(run)
            iqr = q.quantile(0.75) - q.quantile(0.25)
            res[f"run_iqr_{c}"] = iqr.reindex(run.to_numpy()).to_numpy()
            res[f"run_hostzmax_{c}"] = res[f"hostz_{c}"].groupby(run).transform("max")
            res[f"run_hostzmin_{c}"] = res[f"hostz_{c}"].groupby(run).transform("min")
    return res


def in_run_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Job vs its transformation in the run, host vs peers, run shape. One row per job."""
    run, tf, host = _keys(frame)
    q = log_quantities(frame)
    job = q - q.groupby(tf).transform("median")
    job.columns = [f"r_{c}" for c in q.columns]
    rank = mid_rank(q[["runtime", "cpu_eff", "iowait_share"]], tf)
    rank.columns = [f"rank_{c}" for c in rank.columns]
    n_hosts = host.groupby(run).transform("nunique").astype(float)
    host_jobs = host.map(host.value_counts()).astype(float)
    shape = pd.DataFrame(
        {
            "log_n_hosts": np.log(n_hosts),
            "host_job_share": host_jobs * n_hosts / run.map(run.value_counts()).astype(float),
            "tf_group_size": np.log(tf.map(tf.value_counts()).astype(float)),
        },
        index=frame.index,
    )
    return pd.concat([job, rank, shape, _host_views("r_", job, run, host)], axis=1)


def history_features(
    frame: pd.DataFrame, medians: pd.DataFrame, host_medians: pd.DataFrame | None
) -> pd.DataFrame:
    """Job and host views against history: ``medians`` is indexed by transformation, columns as
    :func:`log_quantities`; ``host_medians`` (optional) by host, the mean of past jobs' log ratio
    to their transformation median. NaN where the history lacks the transformation."""
    run, _, host = _keys(frame)
    q = log_quantities(frame)
    # a history without a quantity (past runs from a stampede DB have no I/O counters) gives NaN
    med = medians.reindex(index=frame[TF].fillna("").astype(str).to_numpy(), columns=q.columns)
    med.index = frame.index
    job = q - med
    job.columns = [f"b_{c}" for c in q.columns]
    out = [job, _host_views("b_", job, run, host)]
    runwide = job[["b_runtime", "b_iowait_share", "b_cpu_eff", "b_read_bps"]].groupby(run).transform("median")
    runwide.columns = [f"run_med_{c}" for c in runwide.columns]
    out.append(runwide)
    if host_medians is not None and len(host_medians):
        hm = host_medians.reindex(frame[HOST].fillna("").astype(str).to_numpy())
        hm.index = frame.index
        r = q - q.groupby(_keys(frame)[1]).transform("median")
        sub = r[hm.columns] - hm
        sub.columns = [f"hostnorm_{c}" for c in hm.columns]
        out.append(sub)
    return pd.concat(out, axis=1)


def lacks_online(frame: pd.DataFrame) -> bool:
    """True when the run carries none of the I/O counters (e.g. read from a stampede DB)."""
    cols = [c for c in NOT_IN_STAMPEDE if c.startswith("kickstart_online") and c in frame.columns]
    return not cols or bool(frame[cols].isna().all().all())


def portable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the columns a stampede DB lacks blanked (to fit the portable model)."""
    out = frame.copy()
    out.loc[:, [c for c in NOT_IN_STAMPEDE if c in out.columns]] = np.nan
    return out
