"""Label-free features for the diagnosis: per job, per host and per run.

Three views of each :data:`~workflows.context.CONTEXT_FEATURES` feature:

* **in-run**: the job against its transformation's median in the same run, and each host
  against the other hosts (:mod:`workflows.context`);
* **baseline**: the job against the median of normal training runs of its transformation,
  ``log((value + 1) / (median + 1))``; NaN when the workflow or transformation is unknown;
* **run shape**: how those spread across the run's hosts (cpu blocking hits a few hosts, disk
  throttling slows every host).

Nothing here reads ``run.labels``; the frames are built from ``run.frame`` only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from flowsleuth.workflows.baseline import BaselineProfile, FeatureProfile
from flowsleuth.workflows.context import CONTEXT_FEATURES, host_context, job_ratios
from flowsleuth.workflows.groupstats import codes_of, group_mean, group_median, group_rank_pct
from flowsleuth.workflows.groupstats import median as median_of
from flowsleuth.workflows.models import Run

SHORTS: tuple[str, ...] = tuple(CONTEXT_FEATURES)
_MEDIAN_AT = 5  # index of the 50th percentile in workflows.baseline.QUANTILES
_SLOW = float(np.log(1.5))


def baseline_log_ratios(run: Run, baseline: BaselineProfile | None) -> pd.DataFrame:
    """Per job and feature: log((value+1)/(normal median+1)); all NaN without a profile."""
    frame = run.frame
    names = [f"base_{s}" for s in SHORTS]
    per_tf = baseline.profiles.get(run.workflow, {}) if baseline is not None else {}
    if not per_tf:
        return pd.DataFrame(np.nan, index=frame.index, columns=names)
    tf, tf_names = codes_of(frame["kickstart_transformations"].fillna(""))
    medians = _normal_medians(per_tf)
    values = frame[list(CONTEXT_FEATURES.values())].to_numpy(dtype=float)
    med = np.array([[medians[i].get(t, np.nan) for i in range(len(SHORTS))] for t in tf_names])
    med = med.reshape(len(tf_names), len(SHORTS))[tf]
    return pd.DataFrame(np.log((values + 1.0) / (med + 1.0)), index=frame.index, columns=names)


_MEDIANS: dict[int, tuple[object, list[dict[str, float]]]] = {}


def _normal_medians(per_tf: dict[str, dict[str, FeatureProfile]]) -> list[dict[str, float]]:
    """Per context feature: transformation -> normal median. Once per loaded profile (a model
    lives for the process; its profile is read-only)."""
    hit = _MEDIANS.get(id(per_tf))
    if hit is not None and hit[0] is per_tf:
        return hit[1]
    out = [
        {tf: p[col].quantiles[_MEDIAN_AT] for tf, p in per_tf.items() if col in p}
        for col in CONTEXT_FEATURES.values()
    ]
    if len(_MEDIANS) > 256:
        _MEDIANS.clear()
    _MEDIANS[id(per_tf)] = (per_tf, out)
    return out


def job_table(run: Run, baseline: BaselineProfile | None, ratios: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per job: log in-run ratios and baseline log-ratios."""
    raw = job_ratios(run.frame) if ratios is None else ratios
    r = raw.to_numpy(dtype=float)
    cols: dict[str, np.ndarray] = {}
    logs = np.log(np.where(r < 1e-9, 1e-9, r))
    for i, c in enumerate(raw.columns):
        cols[f"log_{c}"] = logs[:, i]
    # cpu efficiency: contention for cores stretches wall time at equal cpu time
    frame = run.frame
    block = frame[["kickstart_executables_cpu_time", "runtime"]].to_numpy(dtype=float)
    eff = np.log((block[:, 0] + 1.0) / (block[:, 1] + 1.0))
    tf, tf_names = codes_of(frame["kickstart_transformations"].fillna(""))
    cols["log_eff_ratio"] = eff - group_median(eff, tf, len(tf_names))[tf]
    base = baseline_log_ratios(run, baseline)
    for c in base.columns:
        cols[c] = base[c].to_numpy()
    return pd.DataFrame(np.column_stack(list(cols.values())), index=raw.index, columns=list(cols))


def _host_z(per_host: np.ndarray) -> np.ndarray:
    """Each host's value minus the median host, over the hosts' scaled MAD (floored)."""
    med = median_of(per_host)
    mad = 1.4826 * median_of(np.abs(per_host - med))
    return (per_host - med) / max(float(mad) if np.isfinite(mad) else 0.0, 0.05)


def _quantile(values: np.ndarray, q: float) -> float:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.quantile(v, q)) if len(v) else float("nan")


def _quantiles(values: np.ndarray, qs: list[float]) -> list[float]:
    """:func:`_quantile` at each of ``qs`` (one sort)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return [float(x) for x in np.quantile(v, qs)] if len(v) else [float("nan")] * len(qs)


def _std(values: np.ndarray) -> float:
    """``Series.std()`` of float ``values``, NaN with fewer than two values: pandas' own two-pass
    arithmetic (nanops.nanvar: NaN cells zeroed, mean, squared deviations, sum over n - 1) step
    for step, without a Series (9 of these per run cost more than the rest of its features)."""
    v = np.asarray(values, dtype=np.float64)
    missing = np.isnan(v)
    n = v.size - np.count_nonzero(missing)
    if n < 2:
        return float("nan")
    count = np.float64(n)
    v = np.where(missing, 0.0, v)
    sqr = (v.sum(dtype=np.float64) / count - v) ** 2
    sqr[missing] = 0.0
    return float(np.sqrt(sqr.sum(dtype=np.float64) / (count - np.float64(1))))


def run_features(
    run: Run,
    baseline: BaselineProfile | None,
    hosts: pd.DataFrame | None = None,
    jobs: pd.DataFrame | None = None,
) -> dict[str, float]:
    """Run-level features: how far the run sits from normal, and how unevenly across hosts."""
    hosts = host_context(run.frame) if hosts is None else hosts
    jobs = job_table(run, baseline) if jobs is None else jobs
    n_hosts = len(hosts)
    feats: dict[str, float] = {"n_hosts": float(n_hosts), "log_n_jobs": float(np.log1p(len(run)))}
    hz = hosts[[f"host_{s}_z" for s in SHORTS]].to_numpy(dtype=float)
    hr = hosts[[f"host_{s}_ratio" for s in SHORTS]].to_numpy(dtype=float)
    base = jobs[[f"base_{s}" for s in SHORTS]].to_numpy(dtype=float)
    logj_all = jobs[[f"log_{s}_ratio" for s in SHORTS]].to_numpy(dtype=float)
    for i, s in enumerate(SHORTS):
        z = hz[:, i]
        logr = np.log(np.where(hr[:, i] < 1e-9, 1e-9, hr[:, i]))
        z_max, z_p90, z_min = _quantiles(z, [1.0, 0.9, 0.0])
        feats[f"hz_{s}_max"] = z_max
        feats[f"hz_{s}_p90"] = z_p90
        feats[f"hz_{s}_min"] = z_min
        feats[f"hz_{s}_share3"] = float((z > 3).sum() / max(n_hosts, 1))
        feats[f"hr_{s}_std"] = _std(logr)
        r90, r10 = _quantiles(logr, [0.9, 0.1])
        feats[f"hr_{s}_range"] = r90 - r10
        b50, b90, b10 = _quantiles(base[:, i], [0.5, 0.9, 0.1])
        feats[f"base_{s}_p50"] = b50
        feats[f"base_{s}_p90"] = b90
        feats[f"base_{s}_p10"] = b10
        logj = logj_all[:, i]
        j90, j75, j25, j99 = _quantiles(logj, [0.9, 0.75, 0.25, 0.99])
        feats[f"jr_{s}_p90"] = j90
        feats[f"jr_{s}_iqr"] = j75 - j25
        feats[f"jr_{s}_p99"] = j99
        feats[f"jr_{s}_share_slow"] = float((logj > _SLOW).sum() / max(int((~np.isnan(logj)).sum()), 1))
        top = np.sort(z[~np.isnan(z)])[-3:]
        feats[f"hz_{s}_top3"] = float(top.mean()) if len(top) else float("nan")
    code, names = codes_of(run.frame["kickstart_hostname"].fillna(""))
    eff = jobs["log_eff_ratio"].to_numpy(dtype=float)
    eff_z = _host_z(group_mean(eff, code, len(names)))
    feats["hz_eff_min"] = _quantile(eff_z, 0.0)
    feats["hz_eff_p10"] = _quantile(eff_z, 0.1)
    feats["hz_eff_share3"] = float((eff_z < -3).sum() / max(n_hosts, 1))
    feats["jr_eff_p01"] = _quantile(eff, 0.01)
    return feats


def host_table(
    run: Run,
    baseline: BaselineProfile | None,
    hosts: pd.DataFrame | None = None,
    jobs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per host: its in-run context, its baseline log-ratios (own and vs the run's
    median host), and its rank among the run's hosts."""
    hosts = host_context(run.frame) if hosts is None else hosts
    jobs = job_table(run, baseline) if jobs is None else jobs
    code, names = codes_of(run.frame["kickstart_hostname"].fillna(""))
    wanted = [*(f"base_{s}" for s in SHORTS), "log_eff_ratio"]
    per_host = group_mean(jobs[wanted].to_numpy(dtype=float), code, len(names))
    # hosts' rows in the context's host order (the same sorted names: an identity, kept for safety)
    at = pd.Index(names).get_indexer(hosts.index)
    per_host = np.where((at >= 0)[:, None], per_host[at], np.nan)
    n_jobs = hosts["n_jobs"].to_numpy()
    cols: dict[str, np.ndarray] = {"job_share": n_jobs / max(int(n_jobs.sum()), 1)}
    ranks = group_rank_pct(
        hosts[[f"host_{s}_ratio" for s in SHORTS]].to_numpy(dtype=float), np.zeros(len(hosts), np.intp), 1
    )
    for i, s in enumerate(SHORTS):
        b = per_host[:, i]
        cols[f"hbase_{s}"] = b
        cols[f"hbase_{s}_vs_run"] = b - median_of(b)
        cols[f"hrank_{s}"] = ranks[:, i]
    eff = per_host[:, -1]
    cols["host_eff"] = eff
    cols["host_eff_z"] = _host_z(eff)
    own = pd.DataFrame(np.column_stack(list(cols.values())), index=hosts.index, columns=list(cols))
    return pd.concat([hosts.drop(columns="n_jobs"), own], axis=1)
