"""A workflow's normal, learnt from its past runs without labels (``flowsleuth baseline add``).

Past runs are unlabelled and mostly normal. To stay robust to the few that are not, every
statistic is a median of per-run medians: one throttled run moves a transformation's median by
at most one vote out of n, whatever its size. Stored as JSON in the home, one file per workflow.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.tools.generalist.features import HOST, TF, log_quantities
from flowsleuth.workflows.atomic import atomic_write_text
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from pydantic import BaseModel, Field

FORMAT_VERSION = 1


class History(BaseModel):
    """Per-transformation medians of :func:`log_quantities`, kept per run so more can be added."""

    version: int = FORMAT_VERSION
    workflow: str
    runs: list[str] = Field(default_factory=list, description="run ids learnt from, in order added")
    per_run: dict[str, dict[str, dict[str, float]]] = Field(
        default_factory=dict, description="run id -> transformation -> quantity -> median log value"
    )
    host_per_run: dict[str, dict[str, dict[str, float]]] = Field(
        default_factory=dict, description="run id -> host -> quantity -> mean log ratio to the run"
    )

    @property
    def n_runs(self) -> int:
        return len(self.runs)

    def add(self, runs: Iterable[Run]) -> int:
        """Learn from ``runs`` (their labels, if any, are never read). Returns how many were new."""
        added = 0
        for run in runs:
            if run.run_id in self.per_run:
                continue
            q = log_quantities(run.frame)
            tf = run.frame[TF].fillna("").astype(str)
            med = q.groupby(tf).median()
            self.per_run[run.run_id] = _clean(med)
            ratio = q - q.groupby(tf).transform("median")
            host = ratio.groupby(run.frame[HOST].fillna("").astype(str)).mean()
            self.host_per_run[run.run_id] = _clean(host)
            self.runs.append(run.run_id)
            added += 1
        return added

    def merge(self, other: History) -> int:
        """Take ``other``'s runs that this history lacks. Returns how many were new."""
        new = [r for r in other.runs if r not in self.per_run]
        for r in new:
            self.per_run[r] = other.per_run[r]
            self.host_per_run[r] = other.host_per_run[r]
            self.runs.append(r)
        return len(new)

    def medians(self) -> pd.DataFrame:
        """Transformation x quantity: the median over runs of each run's median."""
        return _median_over_runs(self.per_run)

    def host_medians(self) -> pd.DataFrame:
        """Host x quantity: how a host usually sits against its runs (hosts seen in 2+ runs)."""
        return _median_over_runs(self.host_per_run, min_runs=2)

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, self.model_dump_json())

    @classmethod
    def load(cls, path: str | Path) -> History:
        p = Path(path)
        try:
            return cls.model_validate_json(p.read_text())
        except FileNotFoundError:
            raise DataError(p, "no such history file") from None
        except (OSError, ValueError) as err:
            raise DataError(p, f"not a flowsleuth history ({str(err).splitlines()[0]})") from None


def _clean(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {
        str(k): {str(c): float(v) for c, v in row.items() if pd.notna(v)}
        for k, row in frame.to_dict("index").items()
    }


def _median_over_runs(per_run: dict[str, dict[str, dict[str, float]]], min_runs: int = 1) -> pd.DataFrame:
    rows = [{"key": key, **vals} for run in per_run.values() for key, vals in run.items()]
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    counts = df.groupby("key").size()
    med = df.groupby("key").median(numeric_only=True)
    med = med[counts.reindex(med.index) >= min_runs]
    med.index.name = None
    return med.astype(float).replace([np.inf, -np.inf], np.nan)
