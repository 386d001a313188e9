"""The tree features of many runs in one pass: :func:`~tools.classifier.features.tree_features`
(the ``context`` set) of every run of a :class:`~workflows.batch.Batch`, stacked.

Every grouping is keyed by the run first (:mod:`workflows.batch`), so each run's numbers are
exactly its own features; only the per-call overhead is paid once per batch.
"""

from __future__ import annotations

import warnings

import numpy as np
from flowsleuth.tools.classifier.features import (
    _BASELINE,
    _EXTRA_HOST,
    UNIT_FREE_INPUTS,
    _percentile_map,
    unit_free_values,
)
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.batch import Batch
from flowsleuth.workflows.context import CONTEXT_FEATURES, context_of
from flowsleuth.workflows.groupstats import group_extreme, group_median, group_rank_pct
from flowsleuth.workflows.schema import EXTRA_NUMERIC, ONLINE_FEATURES, PAPER_FEATURES

Columns = dict[str, np.ndarray]


def tree_features_batch(batch: Batch, baseline: BaselineProfile | None) -> Columns:
    """Feature name -> its values over every row of the batch (the ``context`` set, with the
    baseline percentiles when ``baseline`` is given)."""
    raw_names = list(dict.fromkeys((*PAPER_FEATURES, *ONLINE_FEATURES, *EXTRA_NUMERIC)))
    raw = batch.block(raw_names)
    cols: Columns = {n: raw[:, i] for i, n in enumerate(raw_names)}
    cols.update(unit_free_values(batch.block(UNIT_FREE_INPUTS)))
    ctx = [context_of(r.frame).context for r in batch.runs]  # warmed as one batch by the registry
    ctx_names = list(ctx[0].columns)
    block = np.vstack([c.to_numpy(dtype=float) for c in ctx])
    cols.update({n: block[:, i] for i, n in enumerate(ctx_names)})
    cols.update(_extra_host(batch))
    cols.update(_run_level(batch, {n: block[:, i] for i, n in enumerate(ctx_names)}))
    if baseline is not None:
        cols.update(_baseline_percentiles(batch, baseline))
    return cols


def _extra_host(batch: Batch) -> Columns:
    values = batch.block(list(_EXTRA_HOST.values()))
    tf, n_tf, _, _ = batch.tf
    host, n_host, host_run, _ = batch.host
    ratio = np.log((values + 1.0) / (group_median(values, tf, n_tf)[tf] + 1.0))
    host_med = group_median(ratio, host, n_host)
    run_med = group_median(host_med, host_run, len(batch.runs))
    vs_run = (host_med - run_med[host_run])[host]
    exp_ratio = np.exp(ratio)
    cols: Columns = {}
    for i, short in enumerate(_EXTRA_HOST):
        cols[f"{short}_ratio"] = exp_ratio[:, i]
        cols[f"host_{short}_vs_run"] = vs_run[:, i]
    n_hosts = np.maximum(np.bincount(host_run, minlength=len(batch.runs)), 1)[batch.run_code]
    sizes = np.maximum(batch.sizes, 1)[batch.run_code]
    cols["host_job_share"] = np.bincount(host, minlength=n_host)[host] * n_hosts / sizes
    return cols


def _run_level(batch: Batch, ctx: Columns) -> Columns:
    shorts = list(CONTEXT_FEATURES)
    ratios = np.column_stack([ctx[f"{s}_ratio"] for s in shorts])
    z = np.column_stack([ctx[f"host_{s}_z"] for s in shorts])
    host_ratios = np.column_stack([ctx[f"host_{s}_ratio"] for s in shorts])
    logs = np.log(np.where(ratios < 1e-9, 1e-9, ratios))
    n_runs, code = len(batch.runs), batch.run_code
    z_max = group_extreme(z, code, n_runs, largest=True)
    above = [np.bincount(code, weights=(z[:, i] > 2), minlength=n_runs) for i in range(len(shorts))]
    z2 = np.column_stack(above) / batch.sizes[:, None]
    spread = np.full((n_runs, len(shorts)), np.nan)
    with warnings.catch_warnings():  # an all-NaN column: NaN, as the per-run form gives
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, part in enumerate(batch.split(logs)):
            q75, q25 = np.nanpercentile(part, [75, 25], axis=0)
            spread[i] = q75 - q25
    ranks = group_rank_pct(host_ratios, code, n_runs)
    cols: Columns = {}
    for i, short in enumerate(shorts):
        cols[f"run_{short}_spread"] = spread[code, i]
        cols[f"run_{short}_hostz_max"] = z_max[code, i]
        cols[f"run_{short}_hosts_z2"] = z2[code, i]
        cols[f"host_{short}_rank"] = ranks[:, i]
    return cols


def _baseline_percentiles(batch: Batch, baseline: BaselineProfile) -> Columns:
    tf, n_tf, tf_run, tf_names = batch.tf
    host, n_host, _, _ = batch.host
    names = np.concatenate(tf_names) if tf_names else np.array([], dtype=object)
    workflows = [r.workflow for r in batch.runs]
    rows = np.split(np.argsort(tf, kind="stable"), np.cumsum(np.bincount(tf, minlength=n_tf))[:-1])
    n, code, n_runs = len(tf), batch.run_code, len(batch.runs)
    cols: Columns = {}
    for feat in _BASELINE:
        pct = np.full(n, np.nan)
        values = batch.block([feat])[:, 0]
        for g in range(n_tf):
            fp = baseline.lookup(workflows[tf_run[g]], str(names[g]), feat)
            if fp is None:
                continue
            uniq, ranks = _percentile_map(baseline, fp)
            v = values[rows[g]]
            pct[rows[g]] = np.where(np.isnan(v), np.nan, np.interp(v, uniq, ranks, left=0.0, right=100.0))
        short = feat.removeprefix("kickstart_online_").removeprefix("kickstart_executables_")
        cols[f"base_{short}_pct"] = pct
        cols[f"base_host_{short}_pct"] = group_median(pct, host, n_host)[host]
        cols[f"base_run_{short}_pct"] = group_median(pct, code, n_runs)[code]
    return cols
