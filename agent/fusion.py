"""Score fusion: combine the per-source anomaly scores into one calibrated score.

Each score source is a tool whose result carries ``data["score"]`` in [0, 1] (classifiers, the
kNN vote, the job diagnosis). A logistic regression is fitted on *validation* jobs for every
subset of sources, so a missing source (no index, no SFT model) falls back to the model fitted
without it instead of imputing a number. Unfitted, fusion is the plain mean of what is present.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from workflows.errors import DataError


class _Logistic(BaseModel):
    sources: list[str]
    coef: list[float]
    intercept: float

    def predict(self, scores: dict[str, float]) -> float:
        z = self.intercept + sum(c * _logit(scores[s]) for s, c in zip(self.sources, self.coef, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


def _records(scores: pd.DataFrame) -> list[dict[str, float]]:
    return [{str(k): float(v) for k, v in row.items() if pd.notna(v)} for row in scores.to_dict("records")]


def best_f1_threshold(score: np.ndarray, y: np.ndarray) -> float:
    """The threshold in [0.05, 0.95] that maximises F1 of ``score >= t`` (0.5 when undefined)."""
    best, best_t = -1.0, 0.5
    ok = ~np.isnan(score)
    for t in np.arange(0.05, 0.951, 0.01):
        pred = score[ok] >= t
        tp = float(np.sum(pred & (y[ok] == 1)))
        denom = float(np.sum(pred) + np.sum(y[ok] == 1))
        f1 = 2 * tp / denom if denom else 0.0
        if f1 > best:
            best, best_t = f1, float(round(t, 2))
    return best_t


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


class Fusion(BaseModel):
    """Per-subset logistic fusion over source scores, plus the decision threshold."""

    sources: list[str] = Field(default_factory=list)
    models: dict[str, _Logistic] = Field(default_factory=dict)
    threshold: float = 0.5
    fitted_on: str = Field(default="unfitted", description="what the fit used, e.g. '4 809 val jobs'")

    def predict(self, scores: dict[str, float]) -> float | None:
        """Fused P(anomalous) from the sources present; None when no source gave a score."""
        present = {k: v for k, v in scores.items() if v is not None and not math.isnan(v)}
        if not present:
            return None
        key = "+".join(sorted(s for s in present if s in self.sources))
        model = self.models.get(key)
        if model is None:
            return float(np.mean(list(present.values())))
        return model.predict(present)

    @classmethod
    def fit(cls, scores: pd.DataFrame, labels: pd.Series, threshold: float | None = None) -> Fusion:
        """Fit on a frame of source scores (NaN = missing) and binary labels of the same rows.

        ``threshold`` None picks the F1-best threshold on these same (validation) rows."""
        from sklearn.linear_model import LogisticRegression

        sources = sorted(scores.columns)
        models: dict[str, _Logistic] = {}
        for r in range(1, len(sources) + 1):
            for subset in itertools.combinations(sources, r):
                rows = scores[list(subset)].notna().all(axis=1)
                y = labels[rows].astype(int)
                if y.nunique() < 2:
                    continue
                x = scores.loc[rows, list(subset)].map(_logit).to_numpy()
                lr = LogisticRegression(C=1.0, max_iter=1000).fit(x, y.to_numpy())
                models["+".join(subset)] = _Logistic(
                    sources=list(subset),
                    coef=lr.coef_[0].tolist(),
                    intercept=float(lr.intercept_[0]),
                )
        fusion = cls(sources=sources, models=models, threshold=0.5, fitted_on=f"{len(labels)} jobs")
        if threshold is None:
            fused = np.array([fusion.predict(r) for r in _records(scores)], dtype=float)
            threshold = best_f1_threshold(fused, labels.to_numpy(dtype=int))
        return fusion.model_copy(update={"threshold": threshold})

    def predict_frame(self, scores: pd.DataFrame) -> np.ndarray:
        """:meth:`predict` for every row (NaN where no source scored)."""
        return np.array([np.nan if (p := self.predict(r)) is None else p for r in _records(scores)])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.model_dump_json(indent=1))

    @classmethod
    def load(cls, path: str | Path) -> Fusion:
        try:
            return cls.model_validate_json(Path(path).read_text())
        except (OSError, ValueError) as err:
            raise DataError(path, f"not a fusion model ({str(err).splitlines()[0]})") from None
