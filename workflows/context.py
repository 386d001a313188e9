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
from functools import lru_cache, partial

import numpy as np
import pandas as pd
from flowsleuth.workflows.groupstats import codes_of, group_mean, group_median
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
    return ratios_frame(frame, _job_ratio_values(frame, _keys(frame)))


_Keys = tuple[np.ndarray, int, np.ndarray, np.ndarray]


def _keys(frame: pd.DataFrame) -> _Keys:
    """(transformation codes, their count, host codes, sorted host names) of the jobs."""
    tf, tf_names = codes_of(frame["kickstart_transformations"].fillna(""))
    host, host_names = codes_of(frame["kickstart_hostname"].fillna(""))
    return tf, len(tf_names), host, host_names


def _job_ratio_values(frame: pd.DataFrame, keys: _Keys) -> np.ndarray:
    values = frame[list(CONTEXT_FEATURES.values())].to_numpy(dtype=float)
    tf, n_tf = keys[0], keys[1]
    median = group_median(values, tf, n_tf)[tf]
    return (values + 1.0) / (median + 1.0)


# Column labels built once: a frame given a list of names infers their dtype anew, every run.
_RATIO_COLUMNS = pd.Index([f"{short}_ratio" for short in CONTEXT_FEATURES])


def ratios_frame(frame: pd.DataFrame, ratios: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(ratios, index=frame.index, columns=_RATIO_COLUMNS)


def host_context(frame: pd.DataFrame, ratios: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per host: geometric-mean job ratio, its ratio to the other hosts, and a robust z."""
    keys = _keys(frame)
    values = _job_ratio_values(frame, keys) if ratios is None else ratios.to_numpy(dtype=float)
    return _host_frame(values, keys)


def _host_frame(ratios: np.ndarray, keys: _Keys) -> pd.DataFrame:
    _, _, host, names = keys
    host_log = group_mean(host_logs(ratios), host, len(names))
    return host_table(host_log, np.bincount(host, minlength=len(names)), names)


def host_logs(ratios: np.ndarray) -> np.ndarray:
    """The job ratios' logs, floored (NaN stays NaN): what a host's mean is taken of."""
    return np.log(np.where(ratios < 1e-9, 1e-9, ratios))


def host_table(host_log: np.ndarray, n_jobs: np.ndarray, names: np.ndarray) -> pd.DataFrame:
    """Per host (``names``, sorted): from its mean log job ratio and its job count."""
    vs, z = _leave_one_out(host_log)
    block = np.empty((len(names), 3 * len(CONTEXT_FEATURES)))
    for i in range(len(CONTEXT_FEATURES)):
        block[:, 3 * i] = np.exp(host_log[:, i])
        block[:, 3 * i + 1] = np.exp(vs[:, i])
        block[:, 3 * i + 2] = z[:, i]
    # one float block (a frame from a dict of columns builds and checks each one apart)
    out = pd.DataFrame(block, index=pd.Index(names, name="host"), columns=_HOST_COLUMNS)
    out.insert(0, "n_jobs", np.asarray(n_jobs).astype(np.int64))
    return out


_HOST_COLUMNS = pd.Index([f"host_{s}_{t}" for s in CONTEXT_FEATURES for t in ("ratio", "vs_peers", "z")])


@lru_cache(maxsize=8)
def _context_columns(host_cols: tuple[str, ...]) -> pd.Index:
    return pd.Index([*_RATIO_COLUMNS, *host_cols])


def _leave_one_out(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each host's log-ratio minus the median of the *other* hosts, and that over their MAD
    (per column of ``vals``: hosts x features; NaN hosts are left out of every median).

    Columns with the same hosts present are taken together (one median call for all of them:
    each median is still of its own row of peers, the same numbers as column by column)."""
    diff = np.full(vals.shape, np.nan)
    z = np.full(vals.shape, np.nan)
    present = ~np.isnan(vals)
    same_hosts: dict[bytes, list[int]] = {}
    for j in range(vals.shape[1]):
        same_hosts.setdefault(present[:, j].tobytes(), []).append(j)
    for cols in same_hosts.values():
        ok = present[:, cols[0]]
        at = np.ix_(ok, cols)
        x = vals[at]
        m = len(x)
        if m < 2:
            continue  # no host has a peer to compare with
        # others[i, :, c]: column c of every host but i
        others = np.broadcast_to(x, (m, *x.shape))[~np.eye(m, dtype=bool)].reshape(m, m - 1, len(cols))
        med = np.median(others, axis=1)
        mad = _MAD_SCALE * np.median(np.abs(others - med[:, None, :]), axis=1)
        d = x - med
        diff[at] = d
        z[at] = d / np.maximum(mad, _Z_FLOOR)
    return diff, z


def run_context(
    run: Run | pd.DataFrame, ratios: pd.DataFrame | None = None, hosts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Job ratios joined with their host's context: one row per job, no label anywhere.
    ``ratios`` / ``hosts``: this frame's :func:`job_ratios` / :func:`host_context`, if known."""
    frame = run.frame if isinstance(run, Run) else run
    ratios = job_ratios(frame) if ratios is None else ratios
    hosts = host_context(frame, ratios) if hosts is None else hosts
    where = hosts.index.get_indexer(pd.Index(frame["kickstart_hostname"].fillna("").to_numpy()))
    return context_frame(frame, ratios.to_numpy(dtype=float), hosts, where)


def context_frame(
    frame: pd.DataFrame, ratios: np.ndarray, hosts: pd.DataFrame, where: np.ndarray
) -> pd.DataFrame:
    """The run context from its parts; ``where``: each job's row in ``hosts`` (-1: none)."""
    missing = where < 0
    keep = hosts.columns != "n_jobs"
    # by position: selecting the columns by name builds a frame first
    per_job = hosts.to_numpy(dtype=float)[:, keep][where]
    if missing.any():
        per_job[missing] = np.nan
    columns = _context_columns(tuple(hosts.columns[keep]))
    out = pd.DataFrame(np.hstack([ratios, per_job]), index=frame.index, columns=columns)
    n_jobs = hosts["n_jobs"].to_numpy()[where]
    out["host_n_jobs"] = np.where(missing, np.nan, n_jobs) if missing.any() else n_jobs
    out["n_hosts"] = len(hosts)
    return out


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
    keys = _keys(frame)
    values = _job_ratio_values(frame, keys)
    hosts = _host_frame(values, keys)
    parts = ContextParts(ratios_frame(frame, values), hosts, context_frame(frame, values, hosts, keys[2]))
    return remember(frame, parts)


def remember(frame: pd.DataFrame, parts: ContextParts) -> ContextParts:
    """Keep ``parts`` as ``frame``'s context while the frame lives (see :func:`context_of`);
    a batch of runs computes them together (:func:`workflows.batch.contexts_of`)."""
    key = id(frame)
    # Single dict operations are atomic: no lock (a lock taken here could deadlock when a
    # garbage collection inside it drops another frame and runs its callback).
    _PARTS[key] = (weakref.ref(frame, partial(_drop, key)), parts)
    return parts


def _drop(key: int, _ref: object) -> None:
    _PARTS.pop(key, None)
