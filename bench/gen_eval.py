"""Metrics of bench/generalize.py: job F1 / AUC / calibration, run kind, culprit hosts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: job-weighted |mean p - rate| over equal-width bins."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    err = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            err += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(err)


def culprits(pred: np.ndarray, y: np.ndarray, runs: pd.Series, hosts: pd.Series) -> tuple[float, float]:
    """Host-level precision and recall pooled over runs: a host is predicted when most of its
    jobs are flagged, truly a culprit when its jobs carry an anomaly label."""
    df = pd.DataFrame({"run": runs.to_numpy(), "host": hosts.to_numpy(), "p": pred, "y": y})
    h = df.groupby(["run", "host"]).agg(p=("p", "mean"), y=("y", "max"))
    hp, hy = h["p"] >= 0.5, h["y"] >= 1
    tp = float((hp & hy).sum())
    prec = tp / hp.sum() if hp.sum() else float("nan")
    rec = tp / hy.sum() if hy.sum() else float("nan")
    return prec, rec


def job_metrics(p: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    pred = p >= threshold
    prev = float(y.mean())
    return {
        "f1": float(f1_score(y, pred, zero_division=0)),
        "f1_all": 2 * prev / (1 + prev),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "auc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan"),
        "ece": ece(p, y),
        "flagged": float(pred.mean()),
    }


def oracle_f1(p: np.ndarray, y: np.ndarray) -> float:
    """F1 at the best threshold chosen on the test data itself (a ceiling, never a result)."""
    best = 0.0
    for t in np.quantile(p, np.linspace(0.01, 0.99, 99)):
        best = max(best, float(f1_score(y, p >= t, zero_division=0)))
    return best
