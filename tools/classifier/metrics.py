"""Evaluation metrics shared by fit (validation), the CLI and the benchmark."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.tasks import Task, target_of


def binary_metrics(y: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """accuracy, F1, precision, recall at ``threshold``, and ROC-AUC of the score."""
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    y = np.asarray(y, dtype=int)
    pred = (np.asarray(score) >= threshold).astype(int)
    out = {
        "n": len(y),
        "positives": int(y.sum()),
        "accuracy": float(accuracy_score(y, pred)) if len(y) else float("nan"),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan"),
    }
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def multiclass_metrics(true: Sequence[str], pred: Sequence[str], classes: Sequence[str]) -> dict[str, object]:
    """Macro-F1 over ``classes`` and the confusion matrix (rows true, columns predicted)."""
    from sklearn.metrics import confusion_matrix, f1_score

    labels = list(classes)
    present = [c for c in labels if c in set(true)]
    return {
        "macro_f1": round(float(f1_score(true, pred, labels=present, average="macro", zero_division=0)), 4),
        "classes": labels,
        "confusion": confusion_matrix(true, pred, labels=labels).tolist(),
    }


def evaluate_scores(
    scores: pd.DataFrame, truth: pd.Series, task: Task, classes: Sequence[str], threshold: float
) -> dict[str, object]:
    """Binary and multi-class metrics of a scorer's output against raw labels aligned to it."""
    raw = truth.astype(str).to_numpy()
    y = np.array([target_of(r, "binary") != "None" for r in raw], dtype=int)
    out: dict[str, object] = dict(binary_metrics(y, scores["score"].to_numpy(), threshold))
    if task != "binary":
        true_cls = [target_of(r, task) for r in raw]
        out["multiclass"] = multiclass_metrics(true_cls, scores["pred_class"].tolist(), classes)
    return out
