"""The generalist judge: the workflow-agnostic models plus what the home holds for a workflow
(its unlabelled history, its labelled runs), judging a run at the best tier available:
labelled > history > zero-shot.

Whether its score leads the verdict is decided in the scoring path
(:func:`flowsleuth.tools.decision.score.score_run`): a workflow the fusion has its own fit for
(the three paper workflows) keeps that fit, which is better there (bench/results/fusion.md vs
generalize.md); any other workflow is judged by this.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flowsleuth.tools.generalist.adapt import Adapted
from flowsleuth.tools.generalist.model import GeneralistModel
from flowsleuth.tools.generalist.scoring import Adapter, Generalist, RunJudgement, adapt_to, judge_run
from flowsleuth.tools.generalist.store import Labels, Store
from flowsleuth.workflows.models import Run

MEMO_RUNS = 64
"""Judgements kept: the recent runs (a ``why`` asks again for its run; a triage of an archive
must not keep every run it judged)."""


@dataclass
class GeneralistJudge:
    """Judges runs with the generalist models and the home's store; one judgement per run.

    The memo is the judge's own (keyed by workflow and run), not the subject's: a tool reads
    the judge as a read-only service, and the lock keeps concurrent tools from judging twice."""

    models: Generalist
    store: Store
    _memo: OrderedDict[tuple[str, str], RunJudgement] = field(default_factory=OrderedDict, repr=False)
    # the model adapted to a workflow's labels: the same for each of its runs (adapting searches
    # settings by leave-one-labelled-run-out, seconds), so once per workflow, model and set of labels
    _adapted: dict[tuple[str, int, bytes], Adapted] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def judge(self, run: Run) -> RunJudgement:
        return self.remember(run, None)

    def judge_many(self, runs: Sequence[Run]) -> list[RunJudgement]:
        """:meth:`judge` of each run, the zero-shot ones in one pass (see :mod:`.batch`)."""
        from flowsleuth.tools.generalist.batch import judge_many

        return judge_many(self, runs)

    def remember(self, run: Run, judged: RunJudgement | None) -> RunJudgement:
        """The memo's judgement of ``run``; when it has none, ``judged`` (judged already, in a
        batch), else a fresh one."""
        key = (run.workflow, run.run_id)
        with self._lock:
            if key not in self._memo:
                if judged is None:
                    hist = self.store.history(run.workflow)
                    labels = self.store.labels(run.workflow)
                    judged = judge_run(self.models, run, hist, labels, self._adapter(run.workflow))
                self._memo[key] = judged
                while len(self._memo) > MEMO_RUNS:  # a batch triage judges each run once
                    self._memo.popitem(last=False)
            self._memo.move_to_end(key)
            return self._memo[key]

    def _adapter(self, workflow: str) -> Adapter:
        def memo(model: GeneralistModel, labels: Labels) -> Adapted:
            key = (workflow, id(model), labels.y.tobytes() + str(labels.rows.shape).encode())
            if key not in self._adapted:
                self._adapted[key] = adapt_to(model, labels)
            return self._adapted[key]

        return memo


def load_judge(store_home: Path, models_dir: Path | None = None) -> GeneralistJudge | None:
    """The home's own generalist models (``models/generalist``) or the shipped ones; None when
    neither exists."""
    from flowsleuth.tools.pretrained import generalist_dir

    own = store_home / "models" / "generalist"
    path = own if (own / "zero").is_dir() else (models_dir or generalist_dir())
    if path is None or not (Path(path) / "zero").is_dir():
        return None
    return GeneralistJudge(Generalist.load(path), Store(store_home))
