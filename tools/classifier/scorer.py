"""The interface every scorer shares, the frame it returns, and loading any saved scorer."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.artifact import ArtifactMeta, check_expected, read_meta
from flowsleuth.tools.classifier.calibration import Calibration
from flowsleuth.workflows.labels import NORMAL_LABEL
from flowsleuth.workflows.models import Run

SCORE_COLUMNS = ("run_id", "node_id", "score", "pred_class", "class_probs")
Keys = Collection[tuple[str, str]]


@runtime_checkable
class Scorer(Protocol):
    """Scores every job of many runs at once.

    ``score_runs`` returns one row per job, indexed like the concatenated run frames (by node
    id), with columns ``run_id, node_id, score`` (calibrated P(anomalous)), ``pred_class``
    (a class of the model's task: 'None', 'cpu_3', … or 'cpu' / 'hdd' / 'anomalous') and
    ``class_probs`` (dict class -> probability).
    """

    name: str
    meta: ArtifactMeta

    def score_runs(self, runs: Sequence[Run]) -> pd.DataFrame: ...

    def save(self, directory: str | Path) -> Path: ...


def row_mask(run: Run, keys: Keys | None) -> np.ndarray:
    """Which jobs of ``run`` are in ``keys`` ((run_id, node_id) pairs); all when keys is None."""
    if keys is None:
        return np.ones(len(run), dtype=bool)
    return np.array([(run.run_id, j) in keys for j in run.job_ids], dtype=bool)


def empty_scores() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else object) for c in SCORE_COLUMNS})


def predict_classes(
    probs: np.ndarray, score: np.ndarray, classes: Sequence[str], threshold: float
) -> list[str]:
    """'None' below the threshold, else the likeliest anomalous class."""
    if len(classes) < 2:
        return [NORMAL_LABEL] * len(score)
    best = np.asarray(classes[1:], dtype=object)[np.argmax(probs[:, 1:], axis=1)]
    return [str(c) if s >= threshold else NORMAL_LABEL for c, s in zip(best, score, strict=True)]


def score_frame(
    runs: Sequence[Run], logits: np.ndarray, classes: Sequence[str], cal: Calibration
) -> pd.DataFrame:
    """Build the shared output frame from the raw logits of all jobs of ``runs`` (in order)."""
    if not runs or sum(len(r) for r in runs) == 0:
        return empty_scores()
    probs = cal.probs(logits)
    score = cal.score(probs)
    index = pd.Index(np.concatenate([r.frame.index.to_numpy() for r in runs]), name="node_id")
    return pd.DataFrame(
        {
            "run_id": np.concatenate([[r.run_id] * len(r) for r in runs]),
            "node_id": index.astype(str),
            "score": score,
            "pred_class": predict_classes(probs, score, classes, cal.threshold),
            "class_probs": [
                {c: round(float(p), 6) for c, p in zip(classes, row, strict=True)} for row in probs
            ],
        },
        index=index,
    )


def load_scorer(
    directory: str | Path,
    *,
    template: str | None = None,
    labels: Sequence[str] | None = None,
    kind: str | None = None,
) -> Scorer:
    """Load a saved scorer. Raises :class:`ArtifactError` when the directory is not a model, or
    its template, label map or kind differ from the ones asked for."""
    from flowsleuth.tools.classifier.sft_set import AdapterSet, is_adapter_set

    if is_adapter_set(directory):
        scorers = AdapterSet.load(directory)
        check_expected(scorers.meta, directory, template=template, labels=labels, kind=kind)
        return scorers
    meta = read_meta(directory)
    check_expected(meta, directory, template=template, labels=labels, kind=kind)
    if meta.kind == "tree":
        from flowsleuth.tools.classifier.tree import TreeScorer

        return TreeScorer.load(directory, meta)
    from flowsleuth.tools.classifier.sft import SFTScorer

    return SFTScorer.load(directory, meta)
