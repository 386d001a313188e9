"""Label-free numeric features for the tree scorer, computed from one run at a time.

Feature sets:

* ``paper``: the paper's nine numeric features, nothing else.
* ``context``: paper features, online I/O counters, a few unit-free job ratios, the run context of
  :mod:`workflows.context` (job vs transformation median, host vs peers), extra host-vs-peers
  comparisons of I/O counters, run-level aggregates, and, when a baseline profile is given,
  percentiles against normal runs of the same transformation.

No workflow or transformation identity is a feature (it would not transfer), and the label is
never read: features come from ``run.frame`` only, which holds no label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from flowsleuth.workflows.baseline import BaselineProfile, FeatureProfile
from flowsleuth.workflows.context import CONTEXT_FEATURES, context_of
from flowsleuth.workflows.groupstats import codes_of, group_median, group_rank_pct
from flowsleuth.workflows.groupstats import median as median_of
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.schema import EXTRA_NUMERIC, ONLINE_FEATURES, PAPER_FEATURES

FEATURE_SETS: dict[str, str] = {"paper": "tree-paper-v1", "context": "tree-context-v2"}

# extra per-host comparisons beyond workflows.context (I/O counters, where hdd throttling shows)
_EXTRA_HOST: dict[str, str] = {
    "write_bps": "kickstart_online_bytes_written_per_second",
    "stime": "kickstart_online_stime",
    "stage_out_bps": "stage_out_effective_bytes_per_sec",
    "read_calls": "kickstart_online_read_system_calls",
    "wms_delay": "wms_delay",
    "post_delay": "post_script_delay",
}
# job value / (runtime + 1): unit-free shares
_SHARES: dict[str, str] = {
    "cpu_util": "kickstart_executables_cpu_time",
    "iowait_share": "kickstart_online_iowait",
    "utime_share": "kickstart_online_utime",
    "stime_share": "kickstart_online_stime",
}
_BASELINE: tuple[str, ...] = (
    "runtime",
    "kickstart_executables_cpu_time",
    "stage_in_delay",
    "stage_out_delay",
    "kickstart_online_iowait",
    "kickstart_online_bytes_read_per_second",
    "stage_in_effective_bytes_per_sec",
)


def tree_features(
    run: Run,
    feature_set: str = "context",
    baseline: BaselineProfile | None = None,
    cache: dict[tuple[str, str], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """One row per job of ``run`` (same index), numeric columns, NaN where unknown.

    ``cache`` (run_id, feature_set) -> frame keeps the baseline-free part across calls, for
    benchmarks that score the same runs under several splits.
    """
    key = (run.run_id, feature_set)
    if cache is not None and key in cache:
        base = cache[key]
    else:
        base = _label_free(run, feature_set)
        if cache is not None:
            cache[key] = base
    if baseline is None or feature_set != "context":
        return base
    return pd.concat([base, _baseline_percentiles(run, baseline)], axis=1)


def _label_free(run: Run, feature_set: str) -> pd.DataFrame:
    frame = run.frame
    if feature_set == "paper":
        return frame.loc[:, list(PAPER_FEATURES)].astype(float)
    if feature_set != "context":
        raise ValueError(f"unknown feature set {feature_set!r}; choose from {sorted(FEATURE_SETS)}")
    raw = frame.loc[:, list(dict.fromkeys((*PAPER_FEATURES, *ONLINE_FEATURES, *EXTRA_NUMERIC)))]
    ctx = context_of(frame).context  # shared with the run facts and the diagnosis
    tf, tf_names = codes_of(frame["kickstart_transformations"].fillna(""))
    host, host_names = codes_of(frame["kickstart_hostname"].fillna(""))
    # numpy over whole arrays, one frame at the end: pandas per column costs more than the math
    rest = {**_extra_host(frame, tf, len(tf_names), host, len(host_names)), **_run_level(ctx)}
    parts = [raw.astype(float), pd.DataFrame(_unit_free(frame), index=frame.index), ctx]
    return pd.concat([*parts, pd.DataFrame(rest, index=frame.index)], axis=1)


UNIT_FREE_INPUTS: tuple[str, ...] = ("runtime", "stage_in_delay", *_SHARES.values())


def _unit_free(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return unit_free_values(frame[list(UNIT_FREE_INPUTS)].to_numpy(dtype=float))


def unit_free_values(block: np.ndarray) -> dict[str, np.ndarray]:
    """The unit-free shares from the :data:`UNIT_FREE_INPUTS` columns (rows x columns)."""
    rt, stage_in = block[:, 0] + 1.0, block[:, 1]
    out = {short: block[:, i + 2] / rt for i, short in enumerate(_SHARES)}
    out["stage_in_share"] = stage_in / (rt + np.where(np.isnan(stage_in), 0.0, stage_in))
    return out


def _extra_host(
    frame: pd.DataFrame, tf: np.ndarray, n_tf: int, host: np.ndarray, n_hosts_seen: int
) -> dict[str, np.ndarray]:
    """Job ratio to its transformation median, and host median ratio vs the run's hosts."""
    values = frame[list(_EXTRA_HOST.values())].to_numpy(dtype=float)
    median = group_median(values, tf, n_tf)[tf]
    ratio = np.log((values + 1.0) / (median + 1.0))
    host_med = group_median(ratio, host, n_hosts_seen)
    run_med = np.array([median_of(host_med[:, i]) for i in range(host_med.shape[1])])
    vs_run = (host_med - run_med)[host]
    exp_ratio = np.exp(ratio)
    cols: dict[str, np.ndarray] = {}
    for i, short in enumerate(_EXTRA_HOST):
        cols[f"{short}_ratio"] = exp_ratio[:, i]
        cols[f"host_{short}_vs_run"] = vs_run[:, i]
    n_hosts = max(n_hosts_seen, 1)
    cols["host_job_share"] = np.bincount(host, minlength=n_hosts_seen)[host] * n_hosts / max(len(frame), 1)
    return cols


def _run_level(ctx: pd.DataFrame) -> dict[str, np.ndarray]:
    """Run-wide aggregates broadcast to every job: how unusual the run is as a whole."""
    shorts = list(CONTEXT_FEATURES)
    k = len(shorts)
    names = [*(f"{s}_ratio" for s in shorts), *(f"host_{s}_z" for s in shorts)]
    block = ctx[[*names, *(f"host_{s}_ratio" for s in shorts)]].to_numpy(dtype=float)
    ratios, z, host_ratios = block[:, :k], block[:, k : 2 * k], block[:, 2 * k :]
    logs = np.log(np.where(ratios < 1e-9, 1e-9, ratios))
    seen = ~np.isnan(z).all(axis=0)
    z_max = np.full(len(shorts), np.nan)
    z_max[seen] = np.nanmax(z[:, seen], axis=0)
    z2 = (z > 2).mean(axis=0) if len(z) else np.full(len(shorts), np.nan)
    one_group = np.zeros(len(ctx), dtype=np.intp)
    ranks = group_rank_pct(host_ratios, one_group, 1)
    n = len(ctx)
    cols: dict[str, np.ndarray] = {}
    for i, short in enumerate(shorts):
        col = logs[:, i]
        q75, q25 = np.nanpercentile(col, [75, 25]) if (~np.isnan(col)).any() else (np.nan, np.nan)
        cols[f"run_{short}_spread"] = np.full(n, q75 - q25)
        cols[f"run_{short}_hostz_max"] = np.full(n, z_max[i])
        cols[f"run_{short}_hosts_z2"] = np.full(n, float(z2[i]))
        # rank of this job's host among the run's hosts (0 = lowest, 1 = highest)
        cols[f"host_{short}_rank"] = ranks[:, i]
    return cols


_RANKS: dict[int, tuple[FeatureProfile, np.ndarray, np.ndarray]] = {}


def _percentile_map(baseline: BaselineProfile, fp: FeatureProfile) -> tuple[np.ndarray, np.ndarray]:
    """(distinct quantile values, their percentile): tied quantiles (e.g. many zeros) collapse
    to the middle of their range. Once per profile entry: models live for the process."""
    hit = _RANKS.get(id(fp))
    if hit is not None and hit[0] is fp:
        return hit[1], hit[2]
    qs = np.asarray(fp.quantiles)
    uniq, inv = np.unique(qs, return_inverse=True)
    ranks = np.bincount(inv, weights=baseline.quantiles) / np.bincount(inv)
    if len(_RANKS) > 4096:  # many fitted profiles in one process (benchmarks): start over
        _RANKS.clear()
    _RANKS[id(fp)] = (fp, uniq, ranks)
    return uniq, ranks


def _baseline_percentiles(run: Run, baseline: BaselineProfile) -> pd.DataFrame:
    """Percentile of each job vs normal runs of its transformation; host and run medians."""
    frame = run.frame
    tf, tf_names = codes_of(frame["kickstart_transformations"].fillna(""))
    host, host_names = codes_of(frame["kickstart_hostname"].fillna(""))
    rows = [np.flatnonzero(tf == k) for k in range(len(tf_names))]
    cols: dict[str, np.ndarray] = {}
    n = len(frame)
    for feat in _BASELINE:
        pct = np.full(n, np.nan)
        values = frame[feat].to_numpy(dtype=float)
        for name, pos in zip(tf_names, rows, strict=True):
            fp = baseline.lookup(run.workflow, str(name), feat)
            if fp is None:
                continue
            uniq, ranks = _percentile_map(baseline, fp)
            v = values[pos]
            pct[pos] = np.where(np.isnan(v), np.nan, np.interp(v, uniq, ranks, left=0.0, right=100.0))
        short = feat.removeprefix("kickstart_online_").removeprefix("kickstart_executables_")
        cols[f"base_{short}_pct"] = pct
        cols[f"base_host_{short}_pct"] = group_median(pct, host, len(host_names))[host]
        cols[f"base_run_{short}_pct"] = np.full(n, median_of(pct))
    return pd.DataFrame(cols, index=frame.index)
