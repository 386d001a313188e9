"""Which path judges a workflow, and the generalist judge shared by ``triage`` and ``why``.

A workflow the shipped fusion has its own fit for (the three paper workflows) keeps that fit: it
is better there (bench/results/fusion.md vs generalize.md). Any other workflow is judged by the
workflow-agnostic models, at the best tier the home allows: labelled > history > zero-shot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flowsleuth.tools.decision.fusion import Fusion, _Logistic
from flowsleuth.tools.generalist.scoring import Generalist, RunJudgement, judge_run
from flowsleuth.tools.generalist.store import Store
from flowsleuth.tools.generalist.tool import TOOL
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.names import canonical_workflow

TRAINED_TIER = "trained (known workflow)"


@dataclass
class GeneralistJudge:
    """Judges runs with the generalist models and what the home holds; one judgement per run."""

    models: Generalist
    store: Store
    _cache: dict[tuple[str, str], RunJudgement] = field(default_factory=dict)

    def judge(self, run: Run) -> RunJudgement:
        key = (run.workflow, run.run_id)
        if key not in self._cache:
            hist = self.store.history(run.workflow)
            labels = self.store.labels(run.workflow)
            self._cache[key] = judge_run(self.models, run, hist, labels)
        return self._cache[key]


def uses_generalist(fusion: Fusion, judge: GeneralistJudge | None, workflow: str) -> bool:
    """True unless the fusion has its own fit for ``workflow`` (or no generalist is loaded)."""
    return judge is not None and canonical_workflow(workflow) not in fusion.workflows


def generalist_fusion(threshold: float) -> Fusion:
    """A fusion that passes the generalist score through unchanged, deciding at ``threshold``:
    the other sources stay in the evidence but do not move the verdict."""
    identity = _Logistic(sources=[TOOL], coef=[1.0], intercept=0.0)
    return Fusion(sources=[TOOL], models={TOOL: identity}, threshold=threshold, fitted_on="generalist")


def load_judge(store_home: Path, models_dir: Path | None) -> GeneralistJudge | None:
    """The home's own generalist models (``models/generalist``) or the shipped ones; None when
    neither exists."""
    from flowsleuth.tools.pretrained import generalist_dir

    own = store_home / "models" / "generalist"
    path = own if (own / "zero").is_dir() else (models_dir or generalist_dir())
    if path is None or not (Path(path) / "zero").is_dir():
        return None
    return GeneralistJudge(Generalist.load(path), Store(store_home))
