"""Per-workflow adaptation from a few labelled jobs, without the original training data.

Two parts, both fitted on the feature rows of the user's labelled jobs only:

* the shipped booster keeps boosting on them (LightGBM ``init_model``): a few shallow trees that
  move the score where this workflow differs from the training workflows;
* a nearest-neighbour vote over the labelled rows in the (unit-free) feature space, blended
  with the boosted score, so that even one confirmed or rejected job moves the verdict on jobs
  that look like it.

Both move the score scale, so the shipped threshold no longer fits the adapted score. With
labelled jobs from two runs or more, leave-one-labelled-run-out decides: each labelled run is
scored by a model adapted to the *other* labelled runs (as the next run will be), for each of a
few settings (:data:`CHOICES`: how far to boost, whether to vote); the setting with the best F1 on
those held-out scores is kept, with the F1-best threshold on them. With one run there is nothing
held out: the default setting and the shipped threshold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.calibration import best_f1_threshold
from flowsleuth.tools.generalist.model import GeneralistModel
from flowsleuth.workflows.errors import DataError

ADAPT_ROUNDS = 40
# (boosting rounds, kNN vote) tried by leave-one-labelled-run-out; the first is the default
CHOICES: tuple[tuple[int, bool], ...] = (
    (ADAPT_ROUNDS, True),
    (0, False),
    (0, True),
    (ADAPT_ROUNDS, False),
    (200, False),
    (200, True),
)
KNN_K = 5
KNN_WEIGHT_MAX = 0.5  # the kNN share grows with the number of labelled jobs, up to this


def _standardise(x: pd.DataFrame, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    z = (np.nan_to_num(x.to_numpy(dtype=float), nan=0.0, posinf=0.0, neginf=0.0) - center) / scale
    return np.clip(z, -10, 10)


@dataclass
class Adapted:
    """A shipped model adapted to one workflow: boosted further, plus a kNN over labelled jobs."""

    base: GeneralistModel
    rows: pd.DataFrame  # labelled feature rows (columns = base.features)
    labels: np.ndarray  # 0 / 1
    n_runs: int
    threshold: float = float("nan")  # NaN: the base model's threshold
    knn: bool = True  # blend the kNN vote in

    @property
    def decision_threshold(self) -> float:
        return self.base.threshold if np.isnan(self.threshold) else self.threshold

    @property
    def knn_weight(self) -> float:
        return min(KNN_WEIGHT_MAX, len(self.labels) / 200.0 + 0.2)

    def _knn(self, feats: pd.DataFrame) -> np.ndarray:
        ref = self.rows.reindex(columns=self.base.features)
        center = np.nan_to_num(np.nanmedian(ref.to_numpy(dtype=float), axis=0))
        scale = np.nan_to_num(np.nanstd(ref.to_numpy(dtype=float), axis=0), nan=1.0)
        scale = np.where(scale < 1e-3, 1.0, scale)
        a = _standardise(ref, center, scale)
        b = _standardise(feats.reindex(columns=self.base.features), center, scale)
        from sklearn.neighbors import NearestNeighbors

        k = min(KNN_K, len(a))
        dist, nearest = NearestNeighbors(n_neighbors=k).fit(a).kneighbors(b)
        w = 1.0 / (dist / np.sqrt(a.shape[1]) + 0.1)
        return (self.labels[nearest] * w).sum(axis=1) / w.sum(axis=1)

    def proba(self, feats: pd.DataFrame, hosts: pd.Series) -> np.ndarray:
        p = self.base.proba(feats, hosts)
        if not len(self.labels) or not self.knn:
            return p
        b = self.knn_weight
        return (1 - b) * p + b * self._knn(feats)

    def save(self, out: str | Path) -> None:
        d = Path(out)
        self.base.save(d)
        self.rows.assign(_label=self.labels).to_json(d / "labelled.json", orient="split")
        threshold = None if np.isnan(self.threshold) else self.threshold
        meta = {"n_runs": self.n_runs, "threshold": threshold, "knn": self.knn}
        (d / "adapted.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, path: str | Path) -> Adapted:
        d = Path(path)
        base = GeneralistModel.load(d)
        try:
            rows = pd.read_json(d / "labelled.json", orient="split")
            meta = json.loads((d / "adapted.json").read_text())
            n_runs = int(meta["n_runs"])
            threshold = float("nan") if meta.get("threshold") is None else float(meta["threshold"])
            knn = bool(meta.get("knn", True))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise DataError(d, f"not an adapted model ({str(err).splitlines()[0]})") from None
        labels = rows.pop("_label").to_numpy(dtype=int)
        return cls(base, rows, labels, n_runs, threshold, knn)


def adapt(
    base: GeneralistModel,
    feats: pd.DataFrame,
    y: np.ndarray,
    hosts: pd.Series,
    n_runs: int,
    rounds: int = ADAPT_ROUNDS,
    runs: pd.Series | None = None,
) -> Adapted:
    """Adapt ``base`` to the labelled rows ``feats`` / ``y`` (one workflow's jobs). ``runs``
    (the run of each row) enables the leave-one-labelled-run-out choice of setting and threshold."""
    y = np.asarray(y, dtype=int)
    run = None if runs is None else pd.Series(runs).to_numpy()
    if run is None or len(pd.unique(run)) < 2 or len(np.unique(y)) < 2:
        return _adapt(base, feats, y, hosts, n_runs, rounds, True)
    best: tuple[float, int, bool, float] | None = None
    for r, knn in CHOICES:
        p = _loro_scores(base, feats, y, hosts, run, r, knn)
        t = best_f1_threshold(p, y)
        f = _f1(p >= t, y)
        if best is None or f > best[0] + 1e-9:
            best = (f, r, knn, t)
    assert best is not None
    ad = _adapt(base, feats, y, hosts, n_runs, best[1], best[2])
    ad.threshold = best[3]
    return ad


def _f1(pred: np.ndarray, y: np.ndarray) -> float:
    tp = float((pred & (y == 1)).sum())
    return 2 * tp / (pred.sum() + (y == 1).sum()) if tp else 0.0


def _loro_scores(
    base: GeneralistModel,
    feats: pd.DataFrame,
    y: np.ndarray,
    hosts: pd.Series,
    run: np.ndarray,
    rounds: int,
    knn: bool,
) -> np.ndarray:
    """Each labelled run scored by the model adapted to the other labelled runs only."""
    groups = pd.unique(run)
    p = np.empty(len(y))
    for g in groups:
        out = run == g
        rest = _adapt(base, feats[~out], y[~out], hosts[~out], len(groups) - 1, rounds, knn)
        p[out] = rest.proba(feats[out], hosts[out])
    return p


def _adapt(
    base: GeneralistModel,
    feats: pd.DataFrame,
    y: np.ndarray,
    hosts: pd.Series,
    n_runs: int,
    rounds: int,
    knn: bool,
) -> Adapted:
    import lightgbm as lgb

    x = feats.reindex(columns=base.features).astype(float)
    model = base
    if rounds and len(np.unique(y)) == 2 and len(y) >= 20:
        params = {
            "objective": "binary",
            "learning_rate": 0.05,
            "num_leaves": 7,
            "min_data_in_leaf": max(5, len(y) // 20),
            "lambda_l2": 5.0,
            "verbose": -1,
            "num_threads": 1,
            "seed": 42,
        }
        ds = lgb.Dataset(x, label=y, free_raw_data=False)
        booster = lgb.train(params, ds, num_boost_round=rounds, init_model=cast("lgb.Booster", base.booster))
        model = replace(base, booster=booster, oof=None, meta={**base.meta, "adapted_rows": len(y)})
    return Adapted(model, x.reset_index(drop=True), np.asarray(y, dtype=int), n_runs, knn=knn)
