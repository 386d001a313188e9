"""Baseline profile: per-transformation percentiles of each feature over *normal* runs.

Small enough to ship in a model artifact (JSON). Answers "where does this value sit against
normal runs of the same transformation?" as a percentile rank.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.workflows.atomic import atomic_write_text
from flowsleuth.workflows.context import CONTEXT_FEATURES
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.schema import PAPER_FEATURES
from pydantic import BaseModel, Field

QUANTILES: tuple[float, ...] = (0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 100)
PROFILE_FEATURES: tuple[str, ...] = tuple(dict.fromkeys((*PAPER_FEATURES, *CONTEXT_FEATURES.values())))


class FeatureProfile(BaseModel):
    n: int
    quantiles: list[float] = Field(description="values at QUANTILES percent")


class BaselineProfile(BaseModel):
    """``profiles[workflow][transformation][feature]`` from normal training runs."""

    version: int = 1
    quantiles: list[float] = Field(default_factory=lambda: list(QUANTILES))
    runs: dict[str, int] = Field(default_factory=dict, description="normal runs used, per workflow")
    profiles: dict[str, dict[str, dict[str, FeatureProfile]]] = Field(default_factory=dict)

    @classmethod
    def fit(cls, runs: Iterable[Run]) -> BaselineProfile:
        """Fit on the runs whose injected anomaly is 'None'; other runs are ignored."""
        frames: dict[str, list[pd.DataFrame]] = {}
        for run in runs:
            if run.injected == "None":
                frames.setdefault(run.workflow, []).append(run.frame)
        prof = cls()
        for wf, parts in sorted(frames.items()):
            df = pd.concat(parts)
            prof.runs[wf] = len(parts)
            per_tf: dict[str, dict[str, FeatureProfile]] = {}
            for tf, grp in df.groupby("kickstart_transformations"):
                per_tf[str(tf)] = {}
                for feat in PROFILE_FEATURES:
                    vals = grp[feat].dropna().to_numpy(dtype=float)
                    if len(vals):
                        qs = np.percentile(vals, QUANTILES).tolist()
                        per_tf[str(tf)][feat] = FeatureProfile(n=len(vals), quantiles=qs)
            prof.profiles[wf] = per_tf
        return prof

    def lookup(self, workflow: str, transformation: str, feature: str) -> FeatureProfile | None:
        return self.profiles.get(workflow, {}).get(transformation, {}).get(feature)

    def percentile(self, workflow: str, transformation: str, feature: str, value: float) -> float | None:
        """Approximate percentile rank (0-100) of ``value``; None when unknown or NaN."""
        fp = self.lookup(workflow, transformation, feature)
        if fp is None or value is None or math.isnan(value):
            return None
        qs = np.asarray(fp.quantiles)
        # Tied quantiles (e.g. many zeros) collapse to the middle of their percentile range.
        uniq, inverse = np.unique(qs, return_inverse=True)
        pct = np.bincount(inverse, weights=self.quantiles) / np.bincount(inverse)
        return float(np.interp(value, uniq, pct, left=0.0, right=100.0))

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, self.model_dump_json(indent=1))

    @classmethod
    def load(cls, path: str | Path) -> BaselineProfile:
        p = Path(path)
        try:
            return cls.model_validate_json(p.read_text())
        except FileNotFoundError:
            raise DataError(p, "no such baseline profile") from None
        except (OSError, ValueError) as err:
            raise DataError(p, f"not a baseline profile ({str(err).splitlines()[0]})") from None
