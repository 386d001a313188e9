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
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.context import CONTEXT_FEATURES, host_context, job_ratios
from flowsleuth.workflows.models import Run

SHORTS: tuple[str, ...] = tuple(CONTEXT_FEATURES)
_MEDIAN_AT = 5  # index of the 50th percentile in workflows.baseline.QUANTILES
_SLOW = float(np.log(1.5))


def baseline_log_ratios(run: Run, baseline: BaselineProfile | None) -> pd.DataFrame:
    """Per job and feature: log((value+1)/(normal median+1)); all NaN without a profile."""
    frame = run.frame
    out = pd.DataFrame(np.nan, index=frame.index, columns=[f"base_{s}" for s in SHORTS])
    per_tf = baseline.profiles.get(run.workflow, {}) if baseline is not None else {}
    if not per_tf:
        return out
    tfs = frame["kickstart_transformations"].fillna("")
    for short, col in CONTEXT_FEATURES.items():
        medians = {tf: p[col].quantiles[_MEDIAN_AT] for tf, p in per_tf.items() if col in p}
        med = tfs.map(medians).astype(float)
        out[f"base_{short}"] = np.log((frame[col].astype(float) + 1.0) / (med + 1.0))
    return out


def job_table(run: Run, baseline: BaselineProfile | None, ratios: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per job: log in-run ratios and baseline log-ratios."""
    raw = job_ratios(run.frame) if ratios is None else ratios
    logs = pd.DataFrame(np.log(raw.clip(lower=1e-9)), index=raw.index)
    logs.columns = [f"log_{c}" for c in raw.columns]
    # cpu efficiency: contention for cores stretches wall time at equal cpu time
    frame = run.frame
    cpu = frame["kickstart_executables_cpu_time"].astype(float)
    eff = pd.Series(np.log((cpu + 1.0) / (frame["runtime"].astype(float) + 1.0)), index=frame.index)
    tf = frame["kickstart_transformations"].fillna("")
    logs["log_eff_ratio"] = eff - eff.groupby(tf).transform("median")
    return pd.concat([logs, baseline_log_ratios(run, baseline)], axis=1)


def _host_z(per_host: pd.Series) -> pd.Series:
    """Each host's value minus the median host, over the hosts' scaled MAD (floored)."""
    med = per_host.median()
    mad = 1.4826 * (per_host - med).abs().median()
    return (per_host - med) / max(float(mad) if np.isfinite(mad) else 0.0, 0.05)


def _quantile(values: pd.Series, q: float) -> float:
    v = values.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    return float(np.quantile(v, q)) if len(v) else float("nan")


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
    for s in SHORTS:
        z = hosts[f"host_{s}_z"]
        logr = np.log(hosts[f"host_{s}_ratio"].clip(lower=1e-9))
        feats[f"hz_{s}_max"] = _quantile(z, 1.0)
        feats[f"hz_{s}_p90"] = _quantile(z, 0.9)
        feats[f"hz_{s}_min"] = _quantile(z, 0.0)
        feats[f"hz_{s}_share3"] = float((z > 3).sum() / max(n_hosts, 1))
        feats[f"hr_{s}_std"] = float(logr.std()) if logr.notna().sum() > 1 else float("nan")
        feats[f"hr_{s}_range"] = _quantile(logr, 0.9) - _quantile(logr, 0.1)
        base = jobs[f"base_{s}"]
        feats[f"base_{s}_p50"] = _quantile(base, 0.5)
        feats[f"base_{s}_p90"] = _quantile(base, 0.9)
        feats[f"base_{s}_p10"] = _quantile(base, 0.1)
        logj = jobs[f"log_{s}_ratio"]
        feats[f"jr_{s}_p90"] = _quantile(logj, 0.9)
        feats[f"jr_{s}_iqr"] = _quantile(logj, 0.75) - _quantile(logj, 0.25)
        feats[f"jr_{s}_p99"] = _quantile(logj, 0.99)
        feats[f"jr_{s}_share_slow"] = float((logj > _SLOW).sum() / max(int(logj.notna().sum()), 1))
        top = np.sort(z.dropna().to_numpy())[-3:]
        feats[f"hz_{s}_top3"] = float(top.mean()) if len(top) else float("nan")
    names = run.frame["kickstart_hostname"].fillna("").to_numpy()
    eff_z = _host_z(jobs["log_eff_ratio"].groupby(names).mean())
    feats["hz_eff_min"] = _quantile(eff_z, 0.0)
    feats["hz_eff_p10"] = _quantile(eff_z, 0.1)
    feats["hz_eff_share3"] = float((eff_z < -3).sum() / max(n_hosts, 1))
    feats["jr_eff_p01"] = _quantile(jobs["log_eff_ratio"], 0.01)
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
    names = run.frame["kickstart_hostname"].fillna("")
    per_host = jobs.groupby(names.to_numpy()).mean()
    cols: dict[str, pd.Series] = {"job_share": hosts["n_jobs"] / max(int(hosts["n_jobs"].sum()), 1)}
    for s in SHORTS:
        b = per_host[f"base_{s}"].reindex(hosts.index)
        cols[f"hbase_{s}"] = b
        cols[f"hbase_{s}_vs_run"] = b - b.median()
        cols[f"hrank_{s}"] = hosts[f"host_{s}_ratio"].rank(pct=True)
    eff = per_host["log_eff_ratio"].reindex(hosts.index)
    cols["host_eff"] = eff
    cols["host_eff_z"] = _host_z(eff)
    return pd.concat([hosts.drop(columns="n_jobs"), pd.DataFrame(cols, index=hosts.index)], axis=1)
