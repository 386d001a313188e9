"""Run context: how each job and each host compares with the rest of *its own run*.

Computed from the run alone, with no labels. Three comparisons:

* job ratio   ``<f>_ratio``: the job's value over the median of its transformation in the run;
* host ratio  ``host_<f>_ratio``: the geometric mean of its jobs' ratios;
* host vs peers ``host_<f>_vs_peers`` and a robust z ``host_<f>_z``: the host's ratio against
  the other hosts of the run.

Values are smoothed by +1 (all features are seconds or bytes/s) so that zero medians do not
blow up; a missing value stays NaN.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import partial
from typing import cast

import numpy as np
import pandas as pd
from flowsleuth.workflows.models import Run

# short name -> run column
CONTEXT_FEATURES: dict[str, str] = {
    "runtime": "runtime",
    "cpu_time": "kickstart_executables_cpu_time",
    "stage_in_delay": "stage_in_delay",
    "stage_out_delay": "stage_out_delay",
    "iowait": "kickstart_online_iowait",
    "queue_delay": "queue_delay",
    "utime": "kickstart_online_utime",
    "read_bps": "kickstart_online_bytes_read_per_second",
    "stage_in_bps": "stage_in_effective_bytes_per_sec",
}

_MAD_SCALE = 1.4826
_Z_FLOOR = 0.05  # log-ratio units; keeps z finite when every peer host is identical


def job_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Per job: value / median of the same transformation in the same run (``<f>_ratio``)."""
    groups = frame["kickstart_transformations"].fillna("")
    values = frame[list(CONTEXT_FEATURES.values())].astype(float)
    median = values.groupby(groups).transform("median")  # one pass over every feature
    out = (values + 1.0) / (median + 1.0)
    out.columns = pd.Index([f"{short}_ratio" for short in CONTEXT_FEATURES])
    return out


def host_context(frame: pd.DataFrame, ratios: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per host: geometric-mean job ratio, its ratio to the other hosts, and a robust z."""
    ratios = job_ratios(frame) if ratios is None else ratios
    logs = cast(pd.DataFrame, np.log(ratios.clip(lower=1e-9)))
    hosts = frame["kickstart_hostname"].fillna("")
    host_log = logs.groupby(hosts).mean()
    out = pd.DataFrame(index=host_log.index)
    out["n_jobs"] = hosts.value_counts().reindex(host_log.index).astype(int)
    for short in CONTEXT_FEATURES:
        col = host_log[f"{short}_ratio"]
        out[f"host_{short}_ratio"] = np.exp(col)
        vs, z = _leave_one_out(col)
        out[f"host_{short}_vs_peers"] = np.exp(vs)
        out[f"host_{short}_z"] = z
    out.index.name = "host"
    return out


def _leave_one_out(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each host's log-ratio minus the median of the *other* hosts, and that over their MAD."""
    vals = col.to_numpy(dtype=float)
    diff = np.full(len(vals), np.nan)
    z = np.full(len(vals), np.nan)
    for i in range(len(vals)):
        others = np.delete(vals, i)
        others = others[~np.isnan(others)]
        if len(others) == 0 or np.isnan(vals[i]):
            continue
        med = np.median(others)
        mad = _MAD_SCALE * np.median(np.abs(others - med))
        diff[i] = vals[i] - med
        z[i] = diff[i] / max(mad, _Z_FLOOR)
    return pd.Series(diff, index=col.index), pd.Series(z, index=col.index)


def run_context(
    run: Run | pd.DataFrame, ratios: pd.DataFrame | None = None, hosts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Job ratios joined with their host's context: one row per job, no label anywhere.
    ``ratios`` / ``hosts``: this frame's :func:`job_ratios` / :func:`host_context`, if known."""
    frame = run.frame if isinstance(run, Run) else run
    ratios = job_ratios(frame) if ratios is None else ratios
    hosts = host_context(frame, ratios) if hosts is None else hosts
    joined = hosts.drop(columns="n_jobs").reindex(frame["kickstart_hostname"].fillna("").to_numpy())
    joined.index = frame.index
    ctx = pd.concat([ratios, joined], axis=1)
    ctx["host_n_jobs"] = hosts["n_jobs"].reindex(frame["kickstart_hostname"].fillna("")).to_numpy()
    ctx["n_hosts"] = len(hosts)
    return ctx


@dataclass(frozen=True)
class ContextParts:
    """One frame's :func:`job_ratios`, :func:`host_context` and :func:`run_context`. Shared by
    every reader of the run (the run facts, the tree features, the diagnosis): read-only."""

    ratios: pd.DataFrame
    hosts: pd.DataFrame
    context: pd.DataFrame


_PARTS: dict[int, tuple[weakref.ref[pd.DataFrame], ContextParts]] = {}


def context_of(frame: pd.DataFrame) -> ContextParts:
    """The run context of ``frame``, computed once per frame object while it lives: the scoring
    pass of one run reads it from several tools, and it is the bulk of a small run's cost.

    A run's frame is read-only once loaded (``Run`` is frozen; a plugin gets its own copy, with
    its own entry). The entry is keyed by the frame's identity, checked through a weak
    reference (an id reused after the frame died never matches) and dropped with the frame."""
    key = id(frame)
    hit = _PARTS.get(key)
    if hit is not None and hit[0]() is frame:
        return hit[1]
    ratios = job_ratios(frame)
    hosts = host_context(frame, ratios)
    parts = ContextParts(ratios, hosts, run_context(frame, ratios, hosts))
    # Single dict operations are atomic: no lock (a lock taken here could deadlock when a
    # garbage collection inside it drops another frame and runs its callback).
    _PARTS[key] = (weakref.ref(frame, partial(_drop, key)), parts)
    return parts


def _drop(key: int, _ref: object) -> None:
    _PARTS.pop(key, None)
