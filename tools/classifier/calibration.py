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


def best_threshold(score: np.ndarray, y: np.ndarray) -> float:
    """The score cut that maximises F1 on these (validation) rows; 0.5 when undefined."""
    if len(score) == 0 or y.min() == y.max():
        return 0.5
    order = np.argsort(-score)
    s, t = score[order], y[order]
    tp = np.cumsum(t)
    fp = np.cumsum(1 - t)
    f1 = 2 * tp / (tp + fp + t.sum())
    # only cut between distinct scores
    last = np.r_[s[1:] != s[:-1], True]
    i = int(np.argmax(np.where(last, f1, -1)))
    nxt = s[i + 1] if i + 1 < len(s) else s[i] - 1e-6
    return float(np.clip((s[i] + nxt) / 2, 1e-6, 1 - 1e-6))


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
    cal.threshold = best_threshold(score, y_bin)
    return cal
