"""The learned part of the diagnosis: a run-class model and a culprit-host model.

* run model: LightGBM multiclass over the injected anomaly (``None``, ``cpu_K``, ``hdd_K``),
  on :func:`~tools.diagnosis.features.run_features`;
* host model: LightGBM binary "this host carries the anomaly", on
  :func:`~tools.diagnosis.features.host_table` plus the run's features, fitted on anomalous
  runs only; its scores are calibrated (isotonic) on validation runs, and the culprit threshold
  is the one that maximises culprit F1 there.

Labels are targets only, never features. The artifact is one JSON file (a few hundred KiB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.tools.boosting import predict
from flowsleuth.tools.diagnosis.features import host_table, job_table, run_features
from flowsleuth.tools.diagnosis.truth import culprit_hosts
from flowsleuth.workflows.atomic import atomic_write_text
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.context import context_of
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from pydantic import BaseModel, Field

ARTIFACT_NAME = "diagnosis.json"
RUN_CLASSES: tuple[str, ...] = ("None", "cpu_2", "cpu_3", "cpu_4", "hdd_5", "hdd_10")


@dataclass
class RunView:
    """One run's label-free features, computed once and shared by both models."""

    run_feats: dict[str, float]
    hosts: pd.DataFrame  # host_table, one row per host

    @classmethod
    def of(cls, run: Run, baseline: BaselineProfile | None) -> RunView:
        parts = context_of(run.frame)  # shared with the run facts and the tree features
        ratios, hc = parts.ratios, parts.hosts
        jobs = job_table(run, baseline, ratios)
        return cls(run_features(run, baseline, hc, jobs), host_table(run, baseline, hc, jobs))

    def host_matrix(self, columns: Sequence[str]) -> pd.DataFrame:
        """Hosts x ``columns``: each host's own features, then the run's (``run_<name>``,
        the same for every host); NaN for a column the view lacks."""
        own = {c: i for i, c in enumerate(self.hosts.columns)}
        values = self.hosts.to_numpy(dtype=float)
        out = np.full((len(self.hosts), len(columns)), np.nan)
        for j, c in enumerate(columns):
            if c in own:
                out[:, j] = values[:, own[c]]
            elif c.startswith("run_") and c[4:] in self.run_feats:
                out[:, j] = self.run_feats[c[4:]]
        return pd.DataFrame(out, index=self.hosts.index, columns=list(columns))


@dataclass
class LabelledView:
    """A run's view with its truth (for fitting and calibration only)."""

    injected: str
    culprits: set[str]
    view: RunView

    @classmethod
    def of(cls, run: Run, baseline: BaselineProfile | None) -> LabelledView:
        return cls(str(run.injected), culprit_hosts(run), RunView.of(run, baseline))


class Calibration(BaseModel):
    """Isotonic map from raw host score to probability (piecewise linear)."""

    x: list[float] = Field(default_factory=lambda: [0.0, 1.0])
    y: list[float] = Field(default_factory=lambda: [0.0, 1.0])

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return np.interp(raw, self.x, self.y)


class DiagnosisArtifact(BaseModel):
    version: int = 1
    classes: list[str]
    run_columns: list[str]
    host_columns: list[str]
    run_model: str = Field(description="LightGBM model text")
    host_model: str = Field(description="LightGBM model text")
    calibration: Calibration = Field(default_factory=Calibration)
    threshold: float = 0.5
    baseline: BaselineProfile
    fitted_on: dict[str, int] = Field(default_factory=dict, description="runs used, per split")


def _params(n_rows: int, objective: str, num_class: int = 1) -> dict[str, object]:
    p: dict[str, object] = {
        "objective": objective,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": max(1, min(20, n_rows // 10)),
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": 42,
        "deterministic": True,
        "num_threads": 1,
        "verbose": -1,
    }
    if num_class > 1:
        p["num_class"] = num_class
    return p


class DiagnosisModel:
    """Fitted models plus the baseline they read. Build with :meth:`fit` or :meth:`load`."""

    def __init__(self, artifact: DiagnosisArtifact) -> None:
        import lightgbm as lgb

        self.artifact = artifact
        self.baseline = artifact.baseline
        self._run = lgb.Booster(model_str=artifact.run_model)
        self._host = lgb.Booster(model_str=artifact.host_model)

    # -- fitting ---------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        train: Sequence[Run],
        validation: Sequence[Run] = (),
        *,
        baseline: BaselineProfile | None = None,
        rounds: int = 200,
    ) -> DiagnosisModel:
        """Fit on labelled ``train`` runs; calibrate on ``validation`` (else on train, in-sample).

        ``baseline`` defaults to a profile fitted on the normal runs of ``train``. Each run is
        also seen once without its baseline, so the models work for unknown workflows too.
        """
        labelled = [r for r in train if r.injected in RUN_CLASSES]
        if not labelled:
            raise DataError("train", "no run with a known injected anomaly to fit on")
        baseline = baseline or BaselineProfile.fit(labelled)
        views = [LabelledView.of(r, b) for r in labelled for b in (baseline, None)]
        checks = [LabelledView.of(r, baseline) for r in validation if r.injected in RUN_CLASSES]
        return cls.fit_views(views, checks, baseline, rounds=rounds)

    @classmethod
    def fit_views(
        cls,
        train: Sequence[LabelledView],
        validation: Sequence[LabelledView],
        baseline: BaselineProfile,
        rounds: int = 200,
    ) -> DiagnosisModel:
        """Fit from precomputed views (what :meth:`fit` does after computing them)."""
        import lightgbm as lgb

        run_x = pd.DataFrame([lv.view.run_feats for lv in train]).astype(float)
        run_y = np.array([RUN_CLASSES.index(lv.injected) for lv in train])
        params = _params(len(run_x), "multiclass", len(RUN_CLASSES))
        run_model = lgb.train(params, lgb.Dataset(run_x, run_y), rounds)
        anomalous = [lv for lv in train if lv.injected != "None"]
        host_cols = [*train[0].view.hosts.columns, *(f"run_{k}" for k in train[0].view.run_feats)]
        hx, hy = _host_xy(anomalous, host_cols)
        host_model = lgb.train(_params(len(hx), "binary"), lgb.Dataset(hx, hy), rounds)
        art = DiagnosisArtifact(
            classes=list(RUN_CLASSES),
            run_columns=list(run_x.columns),
            host_columns=host_cols,
            run_model=run_model.model_to_string(),
            host_model=host_model.model_to_string(),
            baseline=baseline,
            fitted_on={"train_views": len(train), "validation": len(validation)},
        )
        model = cls(art)
        model._calibrate([lv for lv in validation if lv.injected != "None"] or anomalous)
        return model

    def _calibrate(self, views: Sequence[LabelledView]) -> None:
        from sklearn.isotonic import IsotonicRegression

        raw: list[float] = []
        truth: list[float] = []
        for lv in views:
            scores = self.raw_host_scores(lv.view)
            raw.extend(scores.to_numpy())
            truth.extend(scores.index.isin(lv.culprits).astype(float))
        if len(set(truth)) < 2:
            return
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, truth)
        cal = Calibration(x=iso.X_thresholds_.tolist(), y=iso.y_thresholds_.tolist())
        prob = cal(np.asarray(raw))
        best = max(np.unique(prob), key=lambda t: _f1(prob >= t, np.asarray(truth, bool)))
        self.artifact.calibration = cal
        self.artifact.threshold = float(best)

    # -- prediction ------------------------------------------------------------------------
    def run_probabilities(self, view: RunView) -> dict[str, float]:
        x = pd.DataFrame([view.run_feats]).reindex(columns=self.artifact.run_columns).astype(float)
        probs = predict(self._run, x)[0]
        return dict(zip(self.artifact.classes, map(float, probs), strict=True))

    def raw_host_scores(self, view: RunView) -> pd.Series:
        x = view.host_matrix(self.artifact.host_columns)
        return pd.Series(predict(self._host, x), index=x.index, dtype=float)

    def host_probabilities(self, view: RunView) -> pd.Series:
        """Calibrated P(host carries the anomaly | the run is anomalous)."""
        raw = self.raw_host_scores(view)
        return pd.Series(self.artifact.calibration(raw.to_numpy()), index=raw.index)

    # -- persistence -----------------------------------------------------------------------
    def save(self, out_dir: str | Path) -> Path:
        path = Path(out_dir) / ARTIFACT_NAME
        atomic_write_text(path, self.artifact.model_dump_json())
        return path

    @classmethod
    def load(cls, path: str | Path) -> DiagnosisModel:
        p = Path(path)
        p = p / ARTIFACT_NAME if p.is_dir() else p
        try:
            return cls(DiagnosisArtifact.model_validate_json(p.read_text()))
        except FileNotFoundError:
            raise DataError(p, "no such diagnosis model (fit one with fit_default_diagnosis)") from None
        except (OSError, ValueError) as err:
            raise DataError(p, f"not a diagnosis model ({str(err).splitlines()[0]})") from None


def _host_xy(views: Sequence[LabelledView], cols: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    xs, ys = [], []
    for lv in views:
        x = lv.view.host_matrix(cols)
        xs.append(x)
        ys.append(x.index.isin(lv.culprits).astype(int))
    return pd.concat(xs, ignore_index=True), np.concatenate(ys)


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = float((pred & truth).sum())
    return 2 * tp / max(float(pred.sum() + truth.sum()), 1.0)
