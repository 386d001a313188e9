"""The zero-shot job scorer: gradient-boosted trees on workflow-agnostic features, with a
probability calibrated *across* workflows so that its threshold transfers to a new one.

Calibration and threshold come from leave-one-workflow-out inside the training set: each
training workflow is scored by a model fitted on the others, and an isotonic map from those
out-of-workflow scores to outcomes is what the shipped model applies. The threshold is the
F1-best one on those pooled out-of-workflow scores, so it was chosen on workflows the scoring
model had not seen, as the user's will be.

Flow-Bench injects an anomaly on a host, so every job of that host is labelled with it: labels
are per host, and a job's final score is blended with the mean score of
its host's jobs in the same run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.tools.boosting import predict
from flowsleuth.tools.classifier.calibration import best_f1_threshold
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.groupstats import codes_of, group_mean

PARAMS: dict[str, object] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.5,
    "max_bin": 63,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 1,
    "seed": 42,
}
ROUNDS = 120
HOST_BLEND = 0.5  # final = (1 - b) * job + b * host mean; labels are per host


def _booster(x: pd.DataFrame, y: np.ndarray, w: np.ndarray, rounds: int, params: dict[str, object]) -> object:
    import lightgbm as lgb

    ds = lgb.Dataset(x, label=y, weight=w, free_raw_data=True)
    return lgb.train(params, ds, num_boost_round=rounds)


def workflow_weights(workflows: pd.Series) -> np.ndarray:
    """Each workflow weighs the same in total, however many jobs it has."""
    counts = workflows.map(workflows.value_counts()).to_numpy(dtype=float)
    return len(workflows) / (counts * workflows.nunique())


def host_blend(raw: np.ndarray, hosts: pd.Series, blend: float = HOST_BLEND) -> np.ndarray:
    """Blend each job's score with its host's mean score (``hosts``: run-qualified host keys)."""
    code, names = codes_of(hosts.to_numpy())
    return (1 - blend) * raw + blend * group_mean(np.asarray(raw, dtype=float), code, len(names))[code]


@dataclass
class Calibration:
    """Isotonic map from raw scores to P(anomalous), fitted on out-of-workflow scores."""

    x: list[float]
    y: list[float]

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return np.interp(raw, self.x, self.y)

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray, w: np.ndarray) -> Calibration:
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y, sample_weight=w)
        return cls(x=[float(v) for v in iso.X_thresholds_], y=[float(v) for v in iso.y_thresholds_])


@dataclass
class GeneralistModel:
    """Boosted trees + cross-workflow calibration + threshold. ``booster`` is a LightGBM Booster."""

    booster: object
    features: list[str]
    calibration: Calibration
    threshold: float
    trained_on: list[str] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)
    oof: np.ndarray | None = field(default=None, repr=False)  # out-of-workflow raw scores (fit only)

    def raw(self, feats: pd.DataFrame, hosts: pd.Series) -> np.ndarray:
        x = feats.reindex(columns=self.features).astype(float)
        return host_blend(predict(self.booster, x), hosts)

    def proba(self, feats: pd.DataFrame, hosts: pd.Series) -> np.ndarray:
        """Calibrated P(anomalous) per row of ``feats``."""
        return self.calibration(self.raw(feats, hosts))

    def save(self, out: str | Path) -> None:
        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(d / "model.txt"))  # type: ignore[attr-defined]
        meta = {
            "kind": "generalist",
            "features": self.features,
            "calibration": {"x": self.calibration.x, "y": self.calibration.y},
            "threshold": self.threshold,
            "trained_on": self.trained_on,
            "meta": self.meta,
        }
        (d / "meta.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> GeneralistModel:
        import lightgbm as lgb

        d = Path(path)
        try:
            meta = json.loads((d / "meta.json").read_text())
            booster = lgb.Booster(model_str=(d / "model.txt").read_text())
            cal = Calibration(**meta["calibration"])
            return cls(
                booster,
                list(meta["features"]),
                cal,
                float(meta["threshold"]),
                meta.get("trained_on", []),
                meta.get("meta", {}),
            )
        except FileNotFoundError as err:
            raise DataError(d, f"not a generalist model (missing {Path(str(err.filename)).name})") from None
        except (OSError, ValueError, KeyError, TypeError, lgb.basic.LightGBMError) as err:
            raise DataError(
                d, f"not a generalist model ({str(err).splitlines()[0] if str(err) else type(err).__name__})"
            ) from None


def fit_generalist(
    feats: pd.DataFrame,
    y: np.ndarray,
    workflows: pd.Series,
    hosts: pd.Series,
    *,
    rounds: int = ROUNDS,
    extra_weight: np.ndarray | None = None,
) -> GeneralistModel:
    """Fit on jobs of several workflows. Needs at least two workflows for the out-of-workflow
    calibration. ``hosts`` holds run-qualified host keys (for the host blend)."""
    wfs = sorted(workflows.unique())
    if len(wfs) < 2:
        raise ValueError("a generalist model needs at least two training workflows")
    w = workflow_weights(workflows)
    if extra_weight is not None:
        w = w * extra_weight
    oof = np.full(len(feats), np.nan)
    for wf in wfs:
        test = (workflows == wf).to_numpy()
        b = _booster(feats[~test], y[~test], w[~test], rounds, PARAMS)
        raw = b.predict(feats[test])  # type: ignore[attr-defined]
        oof[test] = host_blend(raw, hosts[test])
    cal = Calibration.fit(oof, y, w)
    threshold = best_f1_threshold(cal(oof), y, sample_weight=w)
    booster = _booster(feats, y, w, rounds, PARAMS)
    return GeneralistModel(booster, list(feats.columns), cal, threshold, trained_on=wfs, oof=oof)
