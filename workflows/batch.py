"""Many small runs as one columnar batch: the run is the leading key of every grouping.

A 12-job run costs far more in per-call overhead (building Series and frames, one LightGBM
call per model) than in arithmetic. Scoring a batch of runs in one pass pays that overhead once.
Group statistics stay exactly the per-run ones: every group (a transformation, a host) is keyed
by its run first, so groups of different runs never mix, and the rows of each group keep their
order (the group statistics of :mod:`workflows.groupstats` depend only on that).

:func:`contexts_of` computes the run context (:mod:`workflows.context`) of every run of a batch
this way and stores each run's parts where :func:`~workflows.context.context_of` finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from flowsleuth.workflows.context import (
    CONTEXT_FEATURES,
    ContextParts,
    context_frame,
    host_logs,
    host_table,
    ratios_frame,
    remember,
)
from flowsleuth.workflows.groupstats import group_mean, group_median
from flowsleuth.workflows.models import Run


def run_keyed(run_code: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, int, np.ndarray, list[np.ndarray]]:
    """Group codes of (run, key) pairs, sorted by run then key (each run's groups in the order
    ``codes_of`` gives them within the run): (codes, count, each group's run, each run's keys)."""
    key_code, names = pd.factorize(np.asarray(keys, dtype=object), sort=True)
    pair = run_code.astype(np.int64) * max(len(names), 1) + key_code
    uniq, codes = np.unique(pair, return_inverse=True)
    group_run = uniq // max(len(names), 1)
    n_runs = int(run_code.max()) + 1 if len(run_code) else 0
    per_run = np.split(np.asarray(names, dtype=object)[uniq % max(len(names), 1)], _starts(group_run, n_runs))
    return codes.reshape(-1), len(uniq), group_run, per_run


def _starts(sorted_codes: np.ndarray, n: int) -> np.ndarray:
    """Where each code's block starts in ``sorted_codes`` (all but the first; for np.split)."""
    return np.cumsum(np.bincount(sorted_codes, minlength=n))[:-1]


@dataclass(frozen=True)
class Batch:
    """Runs whose jobs are stacked in run order (run ``i``'s rows are ``offsets[i]:offsets[i+1]``)."""

    runs: Sequence[Run]

    @cached_property
    def sizes(self) -> np.ndarray:
        return np.array([len(r.frame) for r in self.runs], dtype=np.int64)

    @cached_property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.sizes)])

    @cached_property
    def run_code(self) -> np.ndarray:
        """Each row's run (0-based position in the batch)."""
        return np.repeat(np.arange(len(self.runs)), self.sizes)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """Every run's frame, stacked (a column a run lacks is NaN there: read it with
        :meth:`column` or :meth:`block`, which refuse that as the run alone would)."""
        return pd.concat([r.frame for r in self.runs], ignore_index=True)

    def _check(self, names: Sequence[str]) -> None:
        for r in self.runs:
            missing = [c for c in names if c not in r.frame.columns]
            if missing:
                raise KeyError(f"{r.run_id}: no column {', '.join(map(str, missing))}")

    def column(self, name: str) -> np.ndarray:
        """The column of every run, stacked."""
        self._check([name])
        return self.frame[name].to_numpy()

    def block(self, names: Sequence[str]) -> np.ndarray:
        """Rows x ``names`` float block of every run, stacked."""
        self._check(names)
        return self.frame[list(names)].to_numpy(dtype=float)

    def group_offsets(self, group_run: np.ndarray) -> np.ndarray:
        """Where each run's groups start and end, from each group's run (as :func:`run_keyed`)."""
        return np.concatenate([[0], np.cumsum(np.bincount(group_run, minlength=len(self.runs)))])

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """Per-row values back per run."""
        return np.split(values, self.offsets[1:-1])

    @cached_property
    def tf(self) -> tuple[np.ndarray, int, np.ndarray, list[np.ndarray]]:
        """(run, transformation) groups (see :func:`run_keyed`)."""
        return run_keyed(self.run_code, _filled(self.column("kickstart_transformations")))

    @cached_property
    def host(self) -> tuple[np.ndarray, int, np.ndarray, list[np.ndarray]]:
        """(run, host) groups (see :func:`run_keyed`)."""
        return run_keyed(self.run_code, _filled(self.column("kickstart_hostname")))


def _filled(values: np.ndarray) -> np.ndarray:
    """``Series.fillna("")`` on a key column."""
    out = np.asarray(values, dtype=object)
    return np.where(pd.isna(out), "", out)


def contexts_of(batch: Batch) -> list[ContextParts]:
    """Each run's :func:`~workflows.context.context_of`, computed for the whole batch at once and
    remembered per frame, so the tools that read it later find it."""
    values = batch.block(list(CONTEXT_FEATURES.values()))
    tf, n_tf, _, _ = batch.tf
    ratios = (values + 1.0) / (group_median(values, tf, n_tf)[tf] + 1.0)
    host, n_host, host_run, host_names = batch.host
    host_log = group_mean(host_logs(ratios), host, n_host)
    n_jobs = np.bincount(host, minlength=n_host)
    host_off = batch.group_offsets(host_run)
    out: list[ContextParts] = []
    for i, (run, r) in enumerate(zip(batch.runs, batch.split(ratios), strict=True)):
        local = host[batch.offsets[i] : batch.offsets[i + 1]] - host_off[i]
        span = slice(host_off[i], host_off[i + 1])
        hosts = host_table(host_log[span], n_jobs[span], host_names[i])
        parts = ContextParts(ratios_frame(run.frame, r), hosts, context_frame(run.frame, r, hosts, local))
        out.append(remember(run.frame, parts))
    return out
