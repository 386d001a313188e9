"""Score fusion: combine the per-source anomaly scores into one calibrated score.

Each score source is a tool whose result carries ``data["score"]`` in [0, 1] (classifiers, the
kNN vote, the job diagnosis). A logistic regression is fitted on *validation* jobs for every
subset of sources, so a missing source (no index, no SFT model) falls back to the model fitted
without it instead of imputing a number. Unfitted, fusion is the plain mean of what is present.

Workflows differ in which source is right (on Predict Future Sales the tree beats the run
diagnosis; on Montage the reverse), so a fit also holds one fusion per workflow with its own
coefficients and threshold. :meth:`Fusion.for_workflow` picks it, falling back to the pooled fit
for a workflow not seen (or with too few validation jobs) and for a subset of sources that
workflow did not fit. The saved JSON carries ``version``; version 1 (pooled only) still loads.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.calibration import best_f1_threshold
from flowsleuth.workflows.atomic import atomic_write_text
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.names import canonical_workflow
from pydantic import BaseModel, Field, ValidationError, model_validator

FORMAT_VERSION = 2
# A workflow gets its own fit only with enough validation data to fit and tune one. Jobs of one
# run move together, so runs are what count: on 9 validation runs per workflow the per-workflow
# fits and thresholds did worse on test runs than the pooled fit (bench/results/fusion_45runs.md).
MIN_WORKFLOW_JOBS = 300
MIN_WORKFLOW_POSITIVES = 30
MIN_WORKFLOW_RUNS = 20


class _Logistic(BaseModel):
    sources: list[str]
    coef: list[float]
    intercept: float

    def predict(self, scores: dict[str, float]) -> float:
        z = self.intercept + sum(c * _logit(scores[s]) for s, c in zip(self.sources, self.coef, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


def _records(scores: pd.DataFrame) -> list[dict[str, float]]:
    return [{str(k): float(v) for k, v in row.items() if pd.notna(v)} for row in scores.to_dict("records")]


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


# Sources shown as evidence in every investigation but fused only by a fit that includes them:
# the SFT score joins the fusion only where it was measured to help (bench/sft/adapters.py);
# the generalist score leads only where the workflow has no fit of its own (score.route).
EVIDENCE_ONLY = frozenset({"sft_score", "generalist_score"})


class FusionFit(BaseModel):
    """One fusion: a logistic regression per subset of sources, plus the decision threshold."""

    sources: list[str] = Field(default_factory=list)
    models: dict[str, _Logistic] = Field(default_factory=dict)
    threshold: float = 0.5
    fitted_on: str = Field(default="unfitted", description="what the fit used, e.g. '4 809 val jobs'")

    def fused(self, scores: dict[str, float]) -> dict[str, float]:
        """The scores this fusion uses: every present source, except evidence-only ones
        (:data:`EVIDENCE_ONLY`) that it was not fitted on."""
        return {
            k: v
            for k, v in scores.items()
            if v is not None and not math.isnan(v) and (k in self.sources or k not in EVIDENCE_ONLY)
        }

    def predict(self, scores: dict[str, float]) -> float | None:
        """Fused P(anomalous) from the sources present; None when no source gave a score."""
        present = self.fused(scores)
        if not present:
            return None
        key = "+".join(sorted(s for s in present if s in self.sources))
        model = self.models.get(key)
        if model is None:
            return float(np.mean(list(present.values())))
        return model.predict(present)

    def predict_frame(self, scores: pd.DataFrame) -> np.ndarray:
        """:meth:`predict` for every row (NaN where no source scored)."""
        return np.array([np.nan if (p := self.predict(r)) is None else p for r in _records(scores)])


def _fit_one(scores: pd.DataFrame, labels: pd.Series, threshold: float | None, what: str) -> FusionFit:
    from sklearn.linear_model import LogisticRegression

    sources = sorted(str(c) for c in scores.columns)
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
                sources=list(subset), coef=lr.coef_[0].tolist(), intercept=float(lr.intercept_[0])
            )
    fit = FusionFit(sources=sources, models=models, fitted_on=f"{len(labels)} {what}jobs")
    if threshold is None:
        threshold = best_f1_threshold(fit.predict_frame(scores), labels.to_numpy(dtype=int))
    return fit.model_copy(update={"threshold": threshold})


class Fusion(FusionFit):
    """The pooled fusion (fields of :class:`FusionFit`) plus one fit per workflow."""

    version: int = FORMAT_VERSION
    workflows: dict[str, FusionFit] = Field(
        default_factory=dict, description="canonical workflow name -> its own fit"
    )

    @model_validator(mode="before")
    @classmethod
    def _check_version(cls, data: Any) -> Any:
        # A file without "version" is version 1 (pooled only): it loads as a fusion without
        # per-workflow fits. A newer format is refused rather than half read.
        if isinstance(data, dict) and int(data.get("version", 1)) > FORMAT_VERSION:
            raise ValueError(f"fusion format version {data['version']} is newer than this flowsleuth")
        return data

    def for_workflow(self, workflow: str | None) -> Fusion:
        """The fusion to score ``workflow``'s jobs with: its own fit where there is one, with
        the pooled models for the subsets of sources it lacks; else the pooled fit."""
        fit = self.workflows.get(canonical_workflow(workflow)) if workflow else None
        if fit is None:
            return self.model_copy(update={"workflows": {}})
        return Fusion(
            sources=sorted(set(self.sources) | set(fit.sources)),
            models={**self.models, **fit.models},
            threshold=fit.threshold,
            fitted_on=f"{fit.fitted_on} of {canonical_workflow(workflow or '')}",
        )

    def with_threshold(self, threshold: float) -> Fusion:
        """The same fusion deciding at ``threshold`` for every workflow (a user override)."""
        fits = {wf: f.model_copy(update={"threshold": threshold}) for wf, f in self.workflows.items()}
        return self.model_copy(update={"threshold": threshold, "workflows": fits})

    @classmethod
    def fit(
        cls,
        scores: pd.DataFrame,
        labels: pd.Series,
        threshold: float | None = None,
        workflows: Sequence[str] | None = None,
        runs: Sequence[str] | None = None,
        min_jobs: int = MIN_WORKFLOW_JOBS,
        min_positives: int = MIN_WORKFLOW_POSITIVES,
        min_runs: int = MIN_WORKFLOW_RUNS,
    ) -> Fusion:
        """Fit on a frame of source scores (NaN = missing) and binary labels of the same rows.

        ``threshold`` None picks the F1-best threshold on these same (validation) rows.
        ``workflows`` (one name per row) adds a fit per workflow with at least ``min_jobs``
        rows and ``min_positives`` anomalous ones, and, when ``runs`` (the run id of each row)
        is given, rows from at least ``min_runs`` runs."""
        scores = scores.reset_index(drop=True)
        labels = labels.reset_index(drop=True).astype(int)
        pooled = _fit_one(scores, labels, threshold, "")
        fits: dict[str, FusionFit] = {}
        if workflows is not None:
            names = pd.Series([canonical_workflow(str(w)) for w in workflows])
            run_ids = pd.Series(list(runs) if runs is not None else [None] * len(names))
            for wf in sorted(names.unique()):
                rows = names == wf
                y = labels[rows].reset_index(drop=True)
                enough_runs = runs is None or run_ids[rows].nunique() >= min_runs
                if rows.sum() >= min_jobs and y.sum() >= min_positives and y.nunique() == 2 and enough_runs:
                    fits[wf] = _fit_one(scores[rows].reset_index(drop=True), y, threshold, f"{wf} ")
        return cls(**pooled.model_dump(), workflows=fits)

    def predict_frame_by_workflow(self, scores: pd.DataFrame, workflows: Sequence[str]) -> np.ndarray:
        """Fused scores of rows from several workflows, each through :meth:`for_workflow`."""
        names = np.asarray(list(workflows))
        out = np.full(len(scores), np.nan)
        for wf in dict.fromkeys(names):
            rows = names == wf
            out[rows] = self.for_workflow(str(wf)).predict_frame(scores[rows])
        return out

    def thresholds_by_workflow(self, workflows: Sequence[str]) -> np.ndarray:
        """The decision threshold of each row's workflow."""
        return np.array([self.for_workflow(str(w)).threshold for w in workflows])

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, self.model_dump_json(indent=1))

    @classmethod
    def load(cls, path: str | Path) -> Fusion:
        try:
            return cls.model_validate_json(Path(path).read_text())
        except ValidationError as err:
            raise DataError(path, f"not a fusion model ({err.errors()[0]['msg']})") from None
        except (OSError, ValueError) as err:
            raise DataError(path, f"not a fusion model ({str(err).splitlines()[0]})") from None
