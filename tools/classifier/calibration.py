"""Probability calibration fitted on validation data, and the decision threshold.

Temperature scaling keeps the ranking (ROC-AUC) intact; isotonic regression maps the
P(anomalous) score monotonically. Either way a score of 0.8 means that about 80 % of validation
jobs scored near 0.8 were anomalous.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

Method = Literal["temperature", "isotonic", "none"]


class Calibration(BaseModel):
    """Maps raw class logits to calibrated class probabilities and a P(anomalous) score."""

    method: Method = "temperature"
    temperature: float = 1.0
    iso_x: list[float] = Field(default_factory=list, description="isotonic knots (raw score)")
    iso_y: list[float] = Field(default_factory=list, description="isotonic knots (calibrated)")
    threshold: float = Field(default=0.5, description="score at or above which a job is anomalous")
    ece_before: float | None = None
    ece_after: float | None = None

    def probs(self, logits: np.ndarray) -> np.ndarray:
        """Class probabilities, temperature-scaled (class 0 is 'None')."""
        return softmax(np.asarray(logits, dtype=float) / self.temperature)

    def score(self, probs: np.ndarray) -> np.ndarray:
        """Calibrated P(anomalous) from class probabilities."""
        raw = 1.0 - probs[:, 0] if len(probs) else np.zeros(0)
        if self.method == "isotonic" and self.iso_x:
            return np.interp(raw, self.iso_x, self.iso_y)
        return raw


def softmax(logits: np.ndarray) -> np.ndarray:
    if logits.size == 0:
        return logits.reshape(0, logits.shape[-1] if logits.ndim == 2 else 0)
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def expected_calibration_error(score: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE of a binary score: mean |observed rate - mean score| over equal-width bins."""
    if len(score) == 0:
        return float("nan")
    idx = np.minimum((score * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() * abs(y[m].mean() - score[m].mean())
    return float(total / len(score))


def _fit_temperature(logits: np.ndarray, y_class: np.ndarray) -> float:
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        p = softmax(logits / np.exp(log_t))
        return float(-np.log(np.clip(p[np.arange(len(y_class)), y_class], 1e-12, None)).mean())

    res = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(res.x))


def best_f1_threshold(score: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """The cut ``t`` that maximises F1 of ``score >= t`` on these (validation) rows.

    The one threshold search of the project (classifier calibration and fusion both use it).
    The cut lies halfway between the lowest score kept and the next lower score, so unseen scores
    between the two are not decided by which side happened to be observed. NaN scores are
    ignored; 0.5 when F1 is undefined (no rows, or a single class). Ties go to the lower cut.
    ``sample_weight`` weighs rows (e.g. so that every workflow counts the same).
    """
    from sklearn.metrics import precision_recall_curve

    score = np.asarray(score, dtype=float)
    ok = ~np.isnan(score)
    s, pos = score[ok], np.asarray(y)[ok] != 0
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)[ok]
    if len(s) == 0 or pos.all() or not pos.any():
        return 0.5
    precision, recall, cuts = precision_recall_curve(pos, s, sample_weight=w)
    p, r = precision[:-1], recall[:-1]  # the last point (recall 0) has no cut
    f1 = np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)
    cut = float(cuts[int(np.argmax(f1))])
    lower = s[s < cut]
    return (cut + float(lower.max())) / 2 if lower.size else cut


def fit_calibration(logits: np.ndarray, y_class: np.ndarray, method: Method = "temperature") -> Calibration:
    """Fit on validation logits (n x k) and class indices (0 = 'None')."""
    logits = np.asarray(logits, dtype=float)
    y_bin = (np.asarray(y_class) != 0).astype(float)
    cal = Calibration(method=method)
    raw = cal.score(cal.probs(logits))
    cal.ece_before = expected_calibration_error(raw, y_bin)
    if method != "none" and len(logits):
        cal.temperature = _fit_temperature(logits, np.asarray(y_class))
    if method == "isotonic" and len(logits):
        from sklearn.isotonic import IsotonicRegression

        base = 1.0 - cal.probs(logits)[:, 0]
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(base, y_bin)
        cal.iso_x = [float(v) for v in iso.X_thresholds_]
        cal.iso_y = [float(v) for v in iso.y_thresholds_]
    score = cal.score(cal.probs(logits))
    cal.ece_after = expected_calibration_error(score, y_bin)
    cal.threshold = best_f1_threshold(score, y_bin)
    return cal
