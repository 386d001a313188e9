"""Gradient-boosted trees (LightGBM) on numeric features plus run context: the fast path."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from flowsleuth.tools.boosting import predict
from flowsleuth.tools.classifier.artifact import (
    ArtifactError,
    ArtifactMeta,
    data_hash,
    read_checked,
    record_file,
    write_meta,
)
from flowsleuth.tools.classifier.calibration import Method, fit_calibration
from flowsleuth.tools.classifier.features import FEATURE_SETS, tree_features
from flowsleuth.tools.classifier.metrics import binary_metrics
from flowsleuth.tools.classifier.scorer import Keys, empty_scores, row_mask, score_frame
from flowsleuth.tools.classifier.tasks import Task, class_list, target_of
from flowsleuth.workflows.atomic import atomic_write_bytes
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run

Balance = Literal["weights", "none"]
MODEL_FILE = "model.txt"
BASELINE_FILE = "baseline.json"
FeatureCache = dict[tuple[str, str], pd.DataFrame]
# Sections LightGBM writes last: a file holding both was written to the end.
_COMPLETE_MARKS = (b"\nend of trees\n", b"\nend of parameters\n")
DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 63,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    # One thread: with OpenMP on an oversubscribed 2-core box, 2 threads ran 100x slower.
    "num_threads": 1,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
}


def _table(
    runs: Sequence[Run],
    keys: Keys | None,
    feature_set: str,
    baseline: BaselineProfile | None,
    cache: FeatureCache | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Features and raw labels of the selected jobs of labelled runs."""
    frames, labels = [], []
    for run in runs:
        if run.labels is None:
            raise FlowsleuthError(f"{run.source}: training needs labelled runs (no anomaly_type)")
        mask = row_mask(run, keys)
        if mask.any():
            frames.append(tree_features(run, feature_set, baseline, cache)[mask])
            labels.extend(run.labels.to_numpy()[mask].tolist())
    if not frames:
        raise FlowsleuthError("no labelled jobs selected for training")
    return pd.concat(frames, ignore_index=True), labels


class TreeScorer:
    """LightGBM scorer. Build with :meth:`fit` or :func:`~tools.classifier.load_scorer`."""

    kind = "tree"

    def __init__(self, booster: Any, meta: ArtifactMeta, baseline: BaselineProfile | None = None):
        self.booster = booster
        self.meta = meta
        self.baseline = baseline
        self.name = meta.name

    @classmethod
    def fit(
        cls,
        train_runs: Sequence[Run],
        val_runs: Sequence[Run],
        *,
        train_keys: Keys | None = None,
        val_keys: Keys | None = None,
        task: Task = "multiclass",
        feature_set: str = "context",
        baseline: BaselineProfile | None = None,
        balance: Balance = "weights",
        calibration: Method = "temperature",
        max_train: int | None = None,
        max_rounds: int = 2000,
        params: dict[str, Any] | None = None,
        seed: int = 42,
        name: str | None = None,
        feature_cache: FeatureCache | None = None,
    ) -> TreeScorer:
        """Train on the selected jobs of ``train_runs``; early-stop and calibrate on ``val_runs``.

        ``*_keys`` select (run_id, node_id) pairs (None: every job). Run context is always
        computed over the whole run, which holds no label. ``max_train`` subsamples train rows.
        """
        import lightgbm as lgb
        from sklearn.utils.class_weight import compute_sample_weight

        if feature_set not in FEATURE_SETS:
            raise FlowsleuthError(f"unknown feature set {feature_set!r}; choose {sorted(FEATURE_SETS)}")
        start = time.perf_counter()
        x_tr, raw_tr = _table(train_runs, train_keys, feature_set, baseline, feature_cache)
        if max_train is not None and len(x_tr) > max_train:
            pick = np.sort(np.random.default_rng(seed).choice(len(x_tr), max_train, replace=False))
            x_tr, raw_tr = x_tr.iloc[pick].reset_index(drop=True), [raw_tr[i] for i in pick]
        x_va, raw_va = _table(val_runs, val_keys, feature_set, baseline, feature_cache)
        t_tr = [target_of(r, task) for r in raw_tr]
        classes = class_list(t_tr + [target_of(r, task) for r in raw_va])
        index = {c: i for i, c in enumerate(classes)}
        y_tr = np.array([index[t] for t in t_tr])
        y_va = np.array([index[target_of(r, task)] for r in raw_va])
        weight = compute_sample_weight("balanced", y_tr) if balance == "weights" else None
        binary = len(classes) == 2
        p = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
        p.update(
            {"objective": "binary"} if binary else {"objective": "multiclass", "num_class": len(classes)}
        )
        dtrain = lgb.Dataset(x_tr, y_tr, weight=weight, free_raw_data=False)
        dval = lgb.Dataset(x_va, y_va, reference=dtrain)
        booster = lgb.train(
            p,
            dtrain,
            num_boost_round=max_rounds,
            valid_sets=[dval],
            callbacks=[lgb.early_stopping(50, verbose=False)],
        )
        logits = _logits(booster, x_va, binary)
        cal = fit_calibration(logits, y_va, calibration)
        meta = ArtifactMeta(
            kind="tree",
            name=name or f"tree-{feature_set}",
            task=task,
            labels=classes,
            backbone="lightgbm",
            template=FEATURE_SETS[feature_set],
            feature_names=list(x_tr.columns),
            data_hash=data_hash(x_tr, raw_tr),
            n_train_rows=len(x_tr),
            n_val_rows=len(x_va),
            params={
                **p,
                "feature_set": feature_set,
                "balance": balance,
                "best_iteration": booster.best_iteration,
                "baseline": baseline is not None,
            },
            train_seconds=round(time.perf_counter() - start, 2),
            calibration=cal,
        )
        scorer = cls(booster, meta, baseline)
        score = cal.score(cal.probs(logits))
        meta.metrics = binary_metrics((y_va != 0).astype(int), score, cal.threshold)
        return scorer

    def score_runs(self, runs: Sequence[Run], feature_cache: FeatureCache | None = None) -> pd.DataFrame:
        """Score every job of ``runs`` (see :class:`~tools.classifier.scorer.Scorer`)."""
        runs = [r for r in runs if len(r)]
        if not runs:
            return empty_scores()
        feature_set = str(self.meta.params.get("feature_set", "context"))
        x = pd.concat(
            [tree_features(r, feature_set, self.baseline, feature_cache) for r in runs], ignore_index=True
        )
        x = x.reindex(columns=self.meta.feature_names)
        logits = _logits(self.booster, x, len(self.meta.labels) == 2)
        return score_frame(runs, logits, self.meta.labels, self.meta.calibration)

    def score_batch(self, runs: Sequence[Run]) -> pd.DataFrame:
        """:meth:`score_runs` with the features of every run computed as one batch (the
        ``context`` feature set; others score run by run): the same scores, one pass."""
        runs = [r for r in runs if len(r)]
        if str(self.meta.params.get("feature_set", "context")) != "context" or len(runs) < 2:
            return self.score_runs(runs)
        from flowsleuth.tools.classifier.features_batch import tree_features_batch
        from flowsleuth.workflows.batch import Batch

        cols = tree_features_batch(Batch(runs), self.baseline)
        n = sum(len(r) for r in runs)
        missing = np.full(n, np.nan)
        x = pd.DataFrame({c: cols.get(c, missing) for c in self.meta.feature_names}, copy=False)
        logits = _logits(self.booster, x, len(self.meta.labels) == 2)
        return score_frame(runs, logits, self.meta.labels, self.meta.calibration)

    def save(self, directory: str | Path) -> Path:
        """Weights first, then the metadata recording their size and digest; each atomically."""
        d = Path(directory)
        data = self.booster.model_to_string(num_iteration=self.booster.best_iteration or None).encode()
        record_file(self.meta, MODEL_FILE, data)
        atomic_write_bytes(d / MODEL_FILE, data)
        if self.baseline is not None:
            self.baseline.save(d / BASELINE_FILE)
        write_meta(d, self.meta)
        return d

    @classmethod
    def load(cls, directory: str | Path, meta: ArtifactMeta) -> TreeScorer:
        import lightgbm as lgb

        d = Path(directory)
        if not (d / MODEL_FILE).is_file():
            raise ArtifactError(f"{d}: tree model file {MODEL_FILE} is missing")
        data = read_checked(d, meta, MODEL_FILE)
        # LightGBM's parser can segfault on a cut file: never hand it one.
        if not all(mark in data for mark in _COMPLETE_MARKS):
            raise ArtifactError(f"{d / MODEL_FILE}: incomplete LightGBM model (truncated?)")
        try:
            booster = lgb.Booster(model_str=data.decode("utf-8"))
        except (lgb.basic.LightGBMError, UnicodeDecodeError) as err:
            raise ArtifactError(f"{d / MODEL_FILE}: unreadable LightGBM model ({str(err)[:120]})") from None
        baseline = None
        if meta.params.get("baseline"):
            baseline = BaselineProfile.load(d / BASELINE_FILE)
        return cls(booster, meta, baseline)


def _logits(booster: Any, x: pd.DataFrame, binary: bool) -> np.ndarray:
    raw = predict(booster, x, raw_score=True, num_iteration=booster.best_iteration or None)
    if binary:
        return np.column_stack([np.zeros(len(raw)), raw.reshape(-1)])
    return raw.reshape(len(x), -1)
