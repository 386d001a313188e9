"""Judge a batch of small runs in one pass: :meth:`GeneralistJudge.judge` of each, the same
judgements, with the features, the two predictions and the run summaries computed once.

The in-run features are already keyed by run (:data:`~.features.RUN_KEY`: what fitting uses on
many runs at once), so each run's numbers are its own. Only zero-shot runs with the full
columns are batched; a run with history, labels or the portable model is judged alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from flowsleuth.tools.generalist.features import HOST, RUN_KEY, in_run_features, lacks_online
from flowsleuth.tools.generalist.runkind import KINDS, run_summary
from flowsleuth.tools.generalist.scoring import RunJudgement, Tier
from flowsleuth.workflows.models import Run

if TYPE_CHECKING:
    from flowsleuth.tools.generalist.judge import GeneralistJudge


def judge_many(judge: GeneralistJudge, runs: Sequence[Run]) -> list[RunJudgement]:
    """``[judge.judge(r) for r in runs]``, with the zero-shot runs judged together. The judge's
    memo is read and filled exactly as those calls would (a repeated run gets the judgement
    the memo holds)."""
    plain: dict[str, bool] = {}
    together: list[int] = []
    for i, run in enumerate(runs):
        if run.workflow not in plain:
            plain[run.workflow] = _zero_shot_only(judge, run.workflow)
        if plain[run.workflow] and len(run.frame) and not _portable(judge, run):
            together.append(i)
    fresh = dict(zip(together, _judge_together(judge, [runs[i] for i in together]), strict=True))
    return [judge.remember(run, fresh.get(i)) for i, run in enumerate(runs)]


def _zero_shot_only(judge: GeneralistJudge, workflow: str) -> bool:
    hist = judge.store.history(workflow)
    labels = judge.store.labels(workflow)
    return (hist is None or not hist.n_runs) and (labels is None or not len(labels.y))


def _portable(judge: GeneralistJudge, run: Run) -> bool:
    return judge.models.portable is not None and lacks_online(run.frame)


def _judge_together(judge: GeneralistJudge, runs: Sequence[Run]) -> list[RunJudgement]:
    """``judge_run`` (zero-shot, full model) of each run, from one stacked frame."""
    if not runs:
        return []
    model, kind_model = judge.models.zero, judge.models.zero_kind
    keys = np.repeat([f"{i:08d}" for i in range(len(runs))], [len(r.frame) for r in runs])
    frame = pd.concat([r.frame for r in runs], ignore_index=True)
    frame[RUN_KEY] = keys
    # each host of each run is its own group for the host blend, as in its run alone
    hosts = pd.Series(keys, dtype=object) + "\x1f" + frame[HOST].fillna("").astype(str)
    feats = in_run_features(frame)
    p = model.proba(feats, hosts)
    summary = run_summary(feats, pd.Series(keys), p)
    probs = kind_model.predict_proba(summary)
    kinds = [str(k) for k in probs.columns]  # KINDS
    values = probs.reindex([f"{i:08d}" for i in range(len(runs))]).to_numpy(dtype=float)
    out: list[RunJudgement] = []
    at = np.concatenate([[0], np.cumsum([len(r.frame) for r in runs])])
    for i, run in enumerate(runs):
        row = values[i]
        notes = [
            f"no history for workflow {run.workflow!r}: zero-shot verdict "
            "(flowsleuth baseline add PAST_RUNS to learn its normal)"
        ]
        out.append(
            RunJudgement(
                scores=pd.Series(np.round(p[at[i] : at[i + 1]], 4), index=run.frame.index.astype(str)),
                threshold=model.threshold,
                kind=kinds[int(np.argmax(row))],  # idxmax: the first largest
                kind_probs={k: round(float(row[kinds.index(k)]), 4) for k in KINDS},
                tier=Tier("zero-shot"),
                notes=notes,
            )
        )
    return out
