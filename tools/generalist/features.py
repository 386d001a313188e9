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

from dataclasses import dataclass

import numpy as np
import pandas as pd
from flowsleuth.workflows.groupstats import (
    codes_of,
    group_extreme,
    group_mean,
    group_median,
    group_mid_rank,
    group_quantile,
)
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
_DERIVED_FROM: dict[str, str] = {
    "cpu_eff": "kickstart_executables_cpu_time",
    "iowait_share": "kickstart_online_iowait",
    "stime_share": "kickstart_online_stime",
}
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
    return pd.DataFrame(_log_quantities(frame), index=frame.index, columns=[*QUANTITIES, *DERIVED])


def _log_quantities(frame: pd.DataFrame) -> np.ndarray:
    """:func:`log_quantities` as a (jobs x quantities) block: numpy over whole columns."""
    names = [*QUANTITIES.values(), *_DERIVED_FROM.values()]
    present = [c for c in dict.fromkeys(names) if c in frame.columns]
    block = frame[present].to_numpy(dtype=float)
    at = {c: i for i, c in enumerate(present)}
    nan = np.full(len(frame), np.nan)

    def col(name: str) -> np.ndarray:
        return block[:, at[name]] if name in at else nan

    def floor0(v: np.ndarray) -> np.ndarray:
        return np.where(v < 0, 0.0, v)  # NaN stays NaN

    out = [np.log1p(floor0(col(c))) for c in QUANTITIES.values()]
    rt = floor0(col("runtime")) + 1.0
    out += [np.log((floor0(col(c)) + 1.0) / rt) for c in _DERIVED_FROM.values()]
    return np.column_stack(out) if out else np.empty((len(frame), 0))


def mid_rank(x: pd.DataFrame, by: pd.Series) -> pd.DataFrame:
    """Percentile rank within each group at the middle of its tie: (rank - 0.5) / n. A group of
    one sits at 0.5 (neutral); ``rank(pct=True)`` would put it at 1.0, the top, which reads as
    "the slowest of its peers" in a run with one host or a transformation with one job."""
    code, names = codes_of(by.to_numpy())
    ranks = group_mid_rank(x.to_numpy(dtype=float), code, len(names))
    return pd.DataFrame(ranks, index=x.index, columns=x.columns)


@dataclass(frozen=True)
class _Groups:
    """Integer group codes of the jobs: their run, (run, transformation) and (run, host)."""

    run: np.ndarray
    n_run: int
    tf: np.ndarray
    n_tf: int
    host: np.ndarray
    n_host: int
    host_run: np.ndarray  # the run code of each (run, host) group

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Groups:
        n = len(frame)
        if RUN_KEY in frame.columns:
            run, runs = codes_of(frame[RUN_KEY].astype(str))
        else:
            run, runs = np.zeros(n, dtype=np.intp), np.array(["run"], dtype=object)
        tf, n_tf = _pairs(run, frame[TF].fillna("").astype(str))
        host, n_host = _pairs(run, frame[HOST].fillna("").astype(str))
        host_run = np.zeros(n_host, dtype=np.intp)
        host_run[host] = run
        return cls(run, len(runs) if n else 0, tf, n_tf, host, n_host, host_run)


def _pairs(run: np.ndarray, keys: pd.Series) -> tuple[np.ndarray, int]:
    """Codes of the (run, key) pairs, and their count."""
    key, names = codes_of(keys)
    pair, inverse = np.unique(run * max(len(names), 1) + key, return_inverse=True)
    return inverse.reshape(-1), len(pair)


def _host_views(prefix: str, names: list[str], job: np.ndarray, g: _Groups) -> dict[str, np.ndarray]:
    """Host mean of ``job`` columns, vs the run's other hosts (diff to median, robust z, rank)."""
    sel = [i for i, c in enumerate(names) if c.removeprefix(prefix) in HOST_VIEW]
    cols = [names[i] for i in sel]
    h = group_mean(job[:, sel], g.host, g.n_host)
    hr = g.host_run
    diff = h - group_median(h, hr, g.n_run)[hr]
    mad = group_median(np.abs(diff), hr, g.n_run)[hr] * _MAD
    z = diff / np.where(mad < _Z_FLOOR, _Z_FLOOR, mad)  # NaN stays NaN
    rank = group_mid_rank(h, hr, g.n_run)
    res: dict[str, np.ndarray] = {}
    for tag, part in {"host_": h, "hostdiff_": diff, "hostz_": z, "hostrank_": rank}.items():
        per_job = part[g.host]
        for i, c in enumerate(cols):
            res[f"{tag}{c}"] = per_job[:, i]
    if prefix == "r_":
        # run shape: spread of the job view, and the most extreme host
        for c in ("r_runtime", "r_cpu_eff", "r_iowait_share", "r_read_bps"):
            if c not in names:
                continue
            v = job[:, names.index(c)]
            iqr = group_quantile(v, g.run, g.n_run, 0.75) - group_quantile(v, g.run, g.n_run, 0.25)
            res[f"run_iqr_{c}"] = iqr[g.run]
            hz = res[f"hostz_{c}"]
            res[f"run_hostzmax_{c}"] = group_extreme(hz, g.run, g.n_run, largest=True)[g.run]
            res[f"run_hostzmin_{c}"] = group_extreme(hz, g.run, g.n_run, largest=False)[g.run]
    return res


def in_run_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Job vs its transformation in the run, host vs peers, run shape. One row per job."""
    g = _Groups.of(frame)
    q = _log_quantities(frame)
    names = [*QUANTITIES, *DERIVED]
    job = q - group_median(q, g.tf, g.n_tf)[g.tf]
    job_names = [f"r_{c}" for c in names]
    cols: dict[str, np.ndarray] = dict(zip(job_names, job.T, strict=True))
    ranked = ["runtime", "cpu_eff", "iowait_share"]
    rank = group_mid_rank(q[:, [names.index(c) for c in ranked]], g.tf, g.n_tf)
    cols.update({f"rank_{c}": rank[:, i] for i, c in enumerate(ranked)})
    n_hosts = np.bincount(g.host_run, minlength=g.n_run)[g.run].astype(float)
    host_jobs = np.bincount(g.host, minlength=g.n_host)[g.host].astype(float)
    run_jobs = np.bincount(g.run, minlength=g.n_run)[g.run].astype(float)
    cols["log_n_hosts"] = np.log(n_hosts)
    cols["host_job_share"] = host_jobs * n_hosts / run_jobs
    cols["tf_group_size"] = np.log(np.bincount(g.tf, minlength=g.n_tf)[g.tf].astype(float))
    cols.update(_host_views("r_", job_names, job, g))
    return _frame(cols, frame.index)


def _frame(cols: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """One float block (a frame from a dict of columns builds and checks each one apart)."""
    block = np.column_stack(list(cols.values())) if cols else np.empty((len(index), 0))
    return pd.DataFrame(block, index=index, columns=list(cols))


def history_features(
    frame: pd.DataFrame, medians: pd.DataFrame, host_medians: pd.DataFrame | None
) -> pd.DataFrame:
    """Job and host views against history: ``medians`` is indexed by transformation, columns as
    :func:`log_quantities`; ``host_medians`` (optional) by host, the mean of past jobs' log ratio
    to their transformation median. NaN where the history lacks the transformation."""
    g = _Groups.of(frame)
    q = log_quantities(frame)
    # a history without a quantity (past runs from a stampede DB have no I/O counters) gives NaN
    med = medians.reindex(index=frame[TF].fillna("").astype(str).to_numpy(), columns=q.columns)
    med.index = frame.index
    job = q - med
    job.columns = [f"b_{c}" for c in q.columns]
    views = _host_views("b_", list(job.columns), job.to_numpy(dtype=float), g)
    out = [job, pd.DataFrame(views, index=frame.index)]
    wide = ["b_runtime", "b_iowait_share", "b_cpu_eff", "b_read_bps"]
    runwide = group_median(job[wide].to_numpy(dtype=float), g.run, g.n_run)[g.run]
    out.append(pd.DataFrame(runwide, index=frame.index, columns=[f"run_med_{c}" for c in wide]))
    if host_medians is not None and len(host_medians):
        hm = host_medians.reindex(frame[HOST].fillna("").astype(str).to_numpy())
        hm.index = frame.index
        qv = q.to_numpy(dtype=float)
        r = pd.DataFrame(qv - group_median(qv, g.tf, g.n_tf)[g.tf], index=frame.index, columns=q.columns)
        sub = r[hm.columns] - hm
        sub.columns = [f"hostnorm_{c}" for c in hm.columns]
        out.append(sub)
    return pd.concat(out, axis=1)


def lacks_online(frame: pd.DataFrame) -> bool:
    """True when the run carries none of the I/O counters (e.g. read from a stampede DB)."""
    cols = [c for c in NOT_IN_STAMPEDE if c.startswith("kickstart_online") and c in frame.columns]
    # column by column, stopping at the first with a value (a frame of them costs more)
    return all(pd.isna(frame[c].to_numpy()).all() for c in cols)


def portable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the columns a stampede DB lacks blanked (to fit the portable model)."""
    out = frame.copy()
    out.loc[:, [c for c in NOT_IN_STAMPEDE if c in out.columns]] = np.nan
    return out
