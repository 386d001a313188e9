"""Judge one run with the generalist models, at the best tier the home allows.

* **zero-shot**: only the run itself (in-run features);
* **history (n runs)**: plus the workflow's unlabelled past runs (``flowsleuth baseline add``);
* **labelled (n runs)**: plus the user's labelled jobs of this workflow (``label`` / ``feedback``),
  which adapt the scorer (further boosting and a kNN vote over the labelled jobs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from flowsleuth.tools.generalist.adapt import Adapted, adapt
from flowsleuth.tools.generalist.features import (
    history_features,
    in_run_features,
    lacks_online,
    portable_frame,
)
from flowsleuth.tools.generalist.history import History
from flowsleuth.tools.generalist.model import GeneralistModel
from flowsleuth.tools.generalist.runkind import KINDS, RunKindModel, run_summary
from flowsleuth.tools.generalist.store import Labels
from flowsleuth.workflows.models import Run

TierName = Literal["zero-shot", "history", "labelled"]
PORTABLE_HISTORY = "portable-history"


@dataclass(frozen=True)
class Tier:
    name: TierName
    n_runs: int = 0

    def __str__(self) -> str:
        return self.name if self.name == "zero-shot" else f"{self.name} ({self.n_runs} runs)"


@dataclass
class Generalist:
    """The shipped models: one without history features, one with them."""

    zero: GeneralistModel
    zero_kind: RunKindModel
    hist: GeneralistModel | None = None
    hist_kind: RunKindModel | None = None
    portable: GeneralistModel | None = None  # fitted without the stampede-missing columns
    portable_kind: RunKindModel | None = None
    portable_hist: GeneralistModel | None = None  # the same, plus history features
    portable_hist_kind: RunKindModel | None = None

    @classmethod
    def load(cls, path: str | Path) -> Generalist:
        d = Path(path)

        def part(name: str) -> tuple[GeneralistModel | None, RunKindModel | None]:
            sub = d / name
            return (GeneralistModel.load(sub), RunKindModel.load(sub)) if sub.is_dir() else (None, None)

        zero, zero_kind = GeneralistModel.load(d / "zero"), RunKindModel.load(d / "zero")
        return cls(zero, zero_kind, *part("history"), *part("portable"), *part(PORTABLE_HISTORY))

    def parts(self) -> dict[str, tuple[GeneralistModel | None, RunKindModel | None]]:
        """Each model with its run-kind model, by the folder it is saved in."""
        return {
            "zero": (self.zero, self.zero_kind),
            "history": (self.hist, self.hist_kind),
            "portable": (self.portable, self.portable_kind),
            PORTABLE_HISTORY: (self.portable_hist, self.portable_hist_kind),
        }

    def save(self, path: str | Path) -> None:
        for name, (model, kind) in self.parts().items():
            if model is not None and kind is not None:
                model.save(Path(path) / name)
                kind.save(Path(path) / name)


@dataclass
class RunJudgement:
    scores: pd.Series  # calibrated P(anomalous) per job id
    threshold: float
    kind: str  # normal / cpu / hdd
    kind_probs: dict[str, float]
    tier: Tier
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> pd.Series:
        return self.scores >= self.threshold

    def job_class(self) -> str:
        """The class of a flagged job: the run's kind, or its likelier anomaly when 'normal'."""
        if self.kind != "normal":
            return self.kind
        return max(("cpu", "hdd"), key=lambda k: self.kind_probs.get(k, 0.0))


def with_history(frame: pd.DataFrame, feats: pd.DataFrame, history: History | None) -> pd.DataFrame:
    if history is None or not history.n_runs:
        return feats
    return pd.concat([feats, history_features(frame, history.medians(), history.host_medians())], axis=1)


Adapter = Callable[[GeneralistModel, Labels], Adapted]


def adapt_to(model: GeneralistModel, labels: Labels) -> Adapted:
    return adapt(model, labels.rows, labels.y, labels.hosts, labels.n_runs, runs=labels.runs)


def judge_run(
    gen: Generalist, run: Run, history: History | None, labels: Labels | None, adapter: Adapter = adapt_to
) -> RunJudgement:
    """Score every job of ``run``; never reads ``run.labels``. ``adapter`` adapts the model to
    the labels (a judge passes a memoised one: adapting is the same for every run)."""
    frame = run.frame
    hosts = frame["kickstart_hostname"].fillna("").astype(str)
    notes: list[str] = []
    portable = gen.portable is not None and lacks_online(frame)
    has_hist = history is not None and history.n_runs > 0
    if portable:
        frame = portable_frame(frame)
        use_hist = has_hist and gen.portable_hist is not None
        model, kind_model = (
            (gen.portable_hist, gen.portable_hist_kind) if use_hist else (gen.portable, gen.portable_kind)
        )
        notes.append(
            "the run has no kickstart_online_* I/O counters: portable model"
            + ("" if use_hist or not has_hist else ", history not used")
        )
    else:
        use_hist = has_hist and gen.hist is not None
        model, kind_model = (gen.hist, gen.hist_kind) if use_hist else (gen.zero, gen.zero_kind)
    assert model is not None and kind_model is not None
    feats = with_history(frame, in_run_features(frame), history if use_hist else None)
    tier = Tier("history", history.n_runs) if use_hist else Tier("zero-shot")  # type: ignore[union-attr]
    if history is None or not history.n_runs:
        notes.append(
            f"no history for workflow {run.workflow!r}: zero-shot verdict "
            "(flowsleuth baseline add PAST_RUNS to learn its normal)"
        )
    threshold = model.threshold
    if labels is not None and len(labels.y):
        ad = adapter(model, labels)
        p, threshold = ad.proba(feats, hosts), ad.decision_threshold
        tier = Tier("labelled", labels.n_runs)
    else:
        p = model.proba(feats, hosts)
    summary = run_summary(feats, pd.Series(run.run_id, index=frame.index), p)
    probs = kind_model.predict_proba(summary).iloc[0]
    kind = str(probs.idxmax())
    return RunJudgement(
        scores=pd.Series(np.round(p, 4), index=frame.index.astype(str)),
        threshold=threshold,
        kind=kind,
        kind_probs={k: round(float(probs[k]), 4) for k in KINDS},
        tier=tier,
        notes=notes,
    )
