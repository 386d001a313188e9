"""Diagnose a batch of small runs in one pass: :func:`~.diagnose.diagnose_run` of each, the same
diagnoses, with the job table, the host table, the run features and both models' predictions
computed once for the batch.

Every grouping is keyed by the run first (:mod:`workflows.batch`), and each statistic is the
very arithmetic of the per-run form (numpy's linear quantile, pandas' ``Series.std``), so each
run's numbers are exactly its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from flowsleuth.tools.boosting import predict
from flowsleuth.tools.diagnosis.diagnose import verdict
from flowsleuth.tools.diagnosis.features import _SLOW, SHORTS, _normal_medians, _std
from flowsleuth.tools.diagnosis.model import DiagnosisModel
from flowsleuth.tools.diagnosis.schema import RunDiagnosis
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.batch import Batch
from flowsleuth.workflows.context import CONTEXT_FEATURES, ContextParts, context_of
from flowsleuth.workflows.groupstats import group_mean, group_median, group_np_quantiles, group_rank_pct

_HOST_Z = [f"host_{s}_z" for s in SHORTS]
_HOST_RATIO = [f"host_{s}_ratio" for s in SHORTS]


def _host_z(per_host: np.ndarray, host_run: np.ndarray, n_runs: int) -> np.ndarray:
    """``features._host_z`` of each run's hosts."""
    med = group_median(per_host, host_run, n_runs)[host_run]
    mad = 1.4826 * group_median(np.abs(per_host - med), host_run, n_runs)[host_run]
    return (per_host - med) / np.maximum(np.where(np.isfinite(mad), mad, 0.0), 0.05)


def _host_block(parts: list[ContextParts], columns: list[str]) -> np.ndarray:
    """``columns`` of every run's host table, stacked, as floats (by position: selecting columns
    by name builds a frame per run)."""
    blocks, wanted = [], pd.Index(columns)
    for p in parts:
        at = p.hosts.columns.get_indexer(wanted)
        if (at < 0).any():
            raise KeyError(f"host table lacks {[c for c, i in zip(columns, at, strict=True) if i < 0]}")
        blocks.append(p.hosts.to_numpy(dtype=float)[:, at])
    return np.vstack(blocks)


def _base_log_ratios(batch: Batch, baseline: BaselineProfile | None, values: np.ndarray) -> np.ndarray:
    """``features.baseline_log_ratios`` of every run, stacked."""
    tf, n_tf, tf_run, tf_names = batch.tf
    names = np.concatenate(tf_names) if tf_names else np.array([], dtype=object)
    med = np.full((n_tf, len(SHORTS)), np.nan)
    for g in range(n_tf):
        per_tf = baseline.profiles.get(batch.runs[tf_run[g]].workflow, {}) if baseline is not None else {}
        if per_tf:
            medians = _normal_medians(per_tf)
            med[g] = [medians[i].get(names[g], np.nan) for i in range(len(SHORTS))]
    known = np.array([bool(baseline is not None and baseline.profiles.get(r.workflow)) for r in batch.runs])
    out = np.log((values + 1.0) / (med[tf] + 1.0))
    return np.where(known[batch.run_code][:, None], out, np.nan)


def diagnose_many(
    model: DiagnosisModel, batch: Batch, baseline: BaselineProfile | None, max_culprits: int = 30
) -> list[RunDiagnosis]:
    """``diagnose_run`` of each run of ``batch`` with ``model`` and ``baseline``."""
    runs, n_runs = batch.runs, len(batch.runs)
    parts = [context_of(r.frame) for r in runs]  # warmed as one batch by the registry
    ratios = np.vstack([p.ratios.to_numpy(dtype=float) for p in parts])
    hosts = _host_block(parts, [*_HOST_Z, *_HOST_RATIO])
    hz, hr = hosts[:, : len(SHORTS)], hosts[:, len(SHORTS) :]
    tf, n_tf, _, _ = batch.tf
    host, n_host, host_run, host_names = batch.host
    # the job table
    logj = np.log(np.where(ratios < 1e-9, 1e-9, ratios))
    block = batch.block(["kickstart_executables_cpu_time", "runtime"])
    eff = np.log((block[:, 0] + 1.0) / (block[:, 1] + 1.0))
    eff = eff - group_median(eff, tf, n_tf)[tf]
    base = _base_log_ratios(batch, baseline, batch.block(list(CONTEXT_FEATURES.values())))
    run_feats = _run_features(batch, hz, hr, base, logj, eff)
    # the host table
    per_host = group_mean(np.column_stack([base, eff]), host, n_host)
    n_jobs = np.bincount(host, minlength=n_host)
    run_jobs = np.maximum(np.bincount(host_run, weights=n_jobs, minlength=n_runs).astype(np.int64), 1)
    own: dict[str, np.ndarray] = {"job_share": n_jobs / run_jobs[host_run]}
    ranks = group_rank_pct(hr, host_run, n_runs)
    for i, s in enumerate(SHORTS):
        b = per_host[:, i]
        own[f"hbase_{s}"] = b
        own[f"hbase_{s}_vs_run"] = b - group_median(b, host_run, n_runs)[host_run]
        own[f"hrank_{s}"] = ranks[:, i]
    own["host_eff"] = per_host[:, -1]
    own["host_eff_z"] = _host_z(per_host[:, -1], host_run, n_runs)
    host_cols = [c for c in parts[0].hosts.columns if c != "n_jobs"]
    ctx_hosts = _host_block(parts, host_cols)
    have = {**dict(zip(host_cols, ctx_hosts.T, strict=True)), **own}
    # both models, once
    art = model.artifact
    run_x = pd.DataFrame(run_feats).reindex(columns=art.run_columns).astype(float)
    probs = predict(model._run, run_x)
    host_x = np.full((n_host, len(art.host_columns)), np.nan)
    for j, c in enumerate(art.host_columns):
        if c in have:
            host_x[:, j] = have[c]
        elif c.startswith("run_") and c[4:] in run_feats:
            host_x[:, j] = np.asarray(run_feats[c[4:]])[host_run]
    host_p = art.calibration(predict(model._host, pd.DataFrame(host_x, columns=list(art.host_columns))))
    used = np.zeros(n_runs, dtype=bool)
    np.logical_or.at(used, host_run, ~np.isnan(per_host[:, : len(SHORTS)]).all(axis=1))
    at = batch.group_offsets(host_run)
    out = []
    for i, run in enumerate(runs):
        span = slice(at[i], at[i + 1])
        feats_i = {k: float(v[i]) for k, v in run_feats.items()}
        out.append(
            verdict(
                model,
                dict(zip(art.classes, map(float, probs[i]), strict=True)),
                pd.Series(host_p[span], index=pd.Index(host_names[i], name="host")),
                pd.Series(n_jobs[span], index=host_names[i]),
                (run.run_id, run.workflow),
                bool(used[i]),
                feats_i,
                max_culprits,
            )
        )
    return out


def _run_features(
    batch: Batch, hz: np.ndarray, hr: np.ndarray, base: np.ndarray, logj: np.ndarray, eff: np.ndarray
) -> dict[str, np.ndarray]:
    """``features.run_features`` of every run: name -> one value per run."""
    code, n_runs = batch.run_code, len(batch.runs)
    host, n_host, host_run, _ = batch.host
    n_hosts = np.bincount(host_run, minlength=n_runs)
    feats: dict[str, np.ndarray] = {
        "n_hosts": n_hosts.astype(float),
        "log_n_jobs": np.log1p(batch.sizes.astype(float)),
    }
    per_host = np.maximum(n_hosts, 1)
    at = batch.group_offsets(host_run)
    for i, s in enumerate(SHORTS):
        z = hz[:, i]
        logr = np.log(np.where(hr[:, i] < 1e-9, 1e-9, hr[:, i]))
        zq = group_np_quantiles(z, host_run, n_runs, [1.0, 0.9, 0.0])
        feats[f"hz_{s}_max"], feats[f"hz_{s}_p90"], feats[f"hz_{s}_min"] = zq.T
        feats[f"hz_{s}_share3"] = np.bincount(host_run, weights=z > 3, minlength=n_runs) / per_host
        feats[f"hr_{s}_std"] = np.array([_std(logr[at[r] : at[r + 1]]) for r in range(n_runs)])
        rq = group_np_quantiles(logr, host_run, n_runs, [0.9, 0.1])
        feats[f"hr_{s}_range"] = rq[:, 0] - rq[:, 1]
        bq = group_np_quantiles(base[:, i], code, n_runs, [0.5, 0.9, 0.1])
        feats[f"base_{s}_p50"], feats[f"base_{s}_p90"], feats[f"base_{s}_p10"] = bq.T
        lj = logj[:, i]
        jq = group_np_quantiles(lj, code, n_runs, [0.9, 0.75, 0.25, 0.99])
        feats[f"jr_{s}_p90"] = jq[:, 0]
        feats[f"jr_{s}_iqr"] = jq[:, 1] - jq[:, 2]
        feats[f"jr_{s}_p99"] = jq[:, 3]
        slow = np.bincount(code, weights=lj > _SLOW, minlength=n_runs)
        seen = np.maximum(np.bincount(code, weights=~np.isnan(lj), minlength=n_runs), 1)
        feats[f"jr_{s}_share_slow"] = slow / seen
        feats[f"hz_{s}_top3"] = np.array([_top3(z[at[r] : at[r + 1]]) for r in range(n_runs)])
    eff_z = _host_z(group_mean(eff, host, n_host), host_run, n_runs)
    ez = group_np_quantiles(eff_z, host_run, n_runs, [0.0, 0.1])
    feats["hz_eff_min"], feats["hz_eff_p10"] = ez.T
    feats["hz_eff_share3"] = np.bincount(host_run, weights=eff_z < -3, minlength=n_runs) / per_host
    feats["jr_eff_p01"] = group_np_quantiles(eff, code, n_runs, [0.01])[:, 0]
    return feats


def _top3(z: np.ndarray) -> float:
    top = np.sort(z[~np.isnan(z)])[-3:]
    return float(top.mean()) if len(top) else float("nan")
