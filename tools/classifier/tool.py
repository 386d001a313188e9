"""Agent tools over the loaded scorers: ``sft_score`` and ``tree_score``.

Each finds its model in the subject's services (:data:`SCORERS`: kind -> loaded scorer). The
run form (:func:`tree_score_run`, :func:`sft_score_run`) scores the whole run in one pass and
gives every job its result; the job form reports one job, or the run's top jobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.portable import VariantScorer
from flowsleuth.tools.classifier.scorer import Scorer
from flowsleuth.tools.topn import counts, largest
from flowsleuth.workflows.contract import Finding, RunResults, ServiceKey, Subject, ToolResult
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run

SCORERS: ServiceKey[Mapping[str, Scorer]] = ServiceKey("scorers")
"""Loaded scorers by kind ("tree", "sft")."""
_TOP = 5


def _model_info(scorer: Scorer) -> dict[str, Any]:
    return {
        "name": scorer.name,
        "template": scorer.meta.template,
        "threshold": scorer.meta.calibration.threshold,
    }


def _missing(tool: str, kind: str, **inv: Any) -> ToolResult:
    return ToolResult.no_data(
        tool, f"no {kind} model is loaded; train one with `flowsleuth train --scorer {kind}`", **inv
    )


def _gap_note(missing: list[str]) -> str:
    """What a score from an input with missing values means (e.g. a stampede-only run)."""
    from flowsleuth.tools.classifier.text import N_INPUTS

    if len(missing) >= N_INPUTS:
        return (
            "; the job has none of the values this model reads (no timings, kickstart counters or "
            "run context): the score is the model's prior, not evidence about this job"
        )
    shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
    return (
        f"; {len(missing)} of {N_INPUTS} input values missing ({shown}): the model was trained on "
        "jobs that have them, so the score rests on the other values only"
    )


def _job_result(
    tool: str,
    kind: str,
    scorer: Scorer,
    row: Mapping[Any, Any],
    job_id: str,
    inv: dict[str, Any],
    missing: list[str] | None = None,
) -> ToolResult:
    data = {
        "score": round(float(row["score"]), 4),
        "pred_class": row["pred_class"],
        "class_probs": row["class_probs"],
        "model": _model_info(scorer),
    }
    verdict: Literal["anomalous", "normal"] = "anomalous" if row["pred_class"] != "None" else "normal"
    summary = (
        f"{scorer.name}: P(anomalous)={data['score']:.2f} for {job_id} -> {verdict} ({row['pred_class']})"
    )
    if missing:
        data["missing_inputs"] = missing
        summary += _gap_note(missing)
    finding = Finding(
        about="classifier",
        text=f"{kind} classifier P(anomalous) {data['score']:.2f}: {verdict} ({row['pred_class']})",
        numbers=[round(data["score"], 2)],
        direction=verdict,
    )
    return ToolResult.ok(tool, data, summary, findings=[finding], **inv)


def _run_result(
    tool: str, scorer: Scorer, scores: pd.DataFrame, notes: list[str], inv: dict[str, Any]
) -> ToolResult:
    classes = scores["pred_class"].to_numpy()
    flagged = [c for c in classes if c != "None"]
    score, nodes = scores["score"].to_numpy(), scores["node_id"].to_numpy()
    data = {
        "jobs": len(scores),
        "flagged": len(flagged),
        "flagged_classes": counts(flagged),
        "top": [
            {"node_id": nodes[i], "score": round(float(score[i]), 4), "pred_class": classes[i]}
            for i in largest(score, _TOP)
        ],
        "model": _model_info(scorer),
        "run_notes": notes,  # shown to the user (see RunScores.notes)
    }
    return ToolResult.ok(
        tool, data, f"{scorer.name}: {len(flagged)} of {len(scores)} jobs look anomalous", **inv
    )


def _score_run(tool: str, kind: str, subject: Subject) -> RunResults:
    run = subject.run
    scorer = (subject.services.get(SCORERS) or {}).get(kind)
    if scorer is None:
        return RunResults({j: _missing(tool, kind, run_id=run.run_id, job_id=j) for j in subject.focus_jobs})
    notes: list[str] = []
    if isinstance(scorer, VariantScorer):  # a model per feature variant: the one the run's columns allow
        variant, note = scorer.variant_for(run)
        notes = [] if variant == "full" else [f"{run.run_id}: {note}"]
        scorer = scorer.for_run(run)
    try:
        if subject.job_id is not None and hasattr(scorer, "score_jobs"):
            # an encoder costs per job: score the focus job alone (its input keeps the run's context)
            scores = scorer.score_jobs(run, [subject.job_id])
        else:
            scores = scorer.score_runs([run])
    except (FlowsleuthError, ValueError, RuntimeError) as err:
        failed = ToolResult.failed(tool, f"{type(err).__name__}: {err}", run_id=run.run_id)
        return RunResults(dict.fromkeys(subject.focus_jobs, failed), failed)
    return _results(tool, kind, scorer, run, scores, notes)


def _results(
    tool: str, kind: str, scorer: Scorer, run: Run, scores: pd.DataFrame, notes: list[str]
) -> RunResults:
    # an SFT model reads a text of the job's values: say which ones the run lacks
    gaps_of = getattr(scorer, "missing_inputs", None)
    gaps = gaps_of(run, [str(n) for n in scores["node_id"]]) if gaps_of is not None else {}
    jobs = {
        str(row["node_id"]): _job_result(
            tool,
            kind,
            scorer,
            row,
            str(row["node_id"]),
            {"run_id": run.run_id, "job_id": str(row["node_id"])},
            gaps.get(str(row["node_id"])),
        )
        for row in scores.to_dict("records")
    }
    return RunResults(jobs, _run_result(tool, scorer, scores, notes, {"run_id": run.run_id, "job_id": None}))


def _score_tool(tool: str, kind: str, subject: Subject) -> ToolResult:
    inv: dict[str, Any] = {"run_id": subject.run.run_id, "job_id": subject.job_id}
    if subject.job_id is not None and subject.job_id not in subject.run.frame.index:
        return ToolResult.failed(tool, f"job {subject.job_id!r} is not in run {subject.run.run_id}", **inv)
    out = _score_run(tool, kind, subject)
    if subject.job_id is None:
        return out.run or _missing(tool, kind, **inv)
    return out.jobs.get(subject.job_id) or ToolResult.failed(
        tool, f"no score for job {subject.job_id!r}", **inv
    )


def sft_score(subject: Subject) -> ToolResult:
    """Score a job with the fine-tuned transformer classifier (the paper's method).

    Returns data.score: calibrated probability (0-1) that the job is anomalous, data.pred_class:
    the predicted class ('None' = normal, or an anomaly class such as 'cpu_3' / 'hdd_5'),
    data.class_probs: probability of each class, and data.model: the model used and its
    decision threshold. Without a job, reports how many jobs of the run are flagged and the top
    five. Use it as one opinion; compare with tree_score and the peer-comparison hints.
    """
    return _score_tool("sft_score", "sft", subject)


def tree_score(subject: Subject) -> ToolResult:
    """Score a job with gradient-boosted trees on its numbers and its run context.

    Fast and usually the strongest single score. Returns data.score: calibrated probability
    (0-1) that the job is anomalous, data.pred_class ('None' = normal, else e.g. 'cpu_3' or
    'hdd_5'), data.class_probs per class, and data.model with the decision threshold. Without a
    job, reports the number of flagged jobs in the run and the top five by score.
    """
    return _score_tool("tree_score", "tree", subject)


def sft_score_run(subject: Subject) -> RunResults:
    """:func:`sft_score` for every job of the run, in one pass."""
    return _score_run("sft_score", "sft", subject)


def tree_score_run(subject: Subject) -> RunResults:
    """:func:`tree_score` for every job of the run, in one pass."""
    return _score_run("tree_score", "tree", subject)


def tree_score_runs(subjects: Sequence[Subject]) -> list[RunResults]:
    """:func:`tree_score_run` of each subject, the whole runs the full model scores in one
    pass: their features as one batch (:mod:`.features_batch`), one prediction."""
    out: dict[int, RunResults] = {}
    scorer = _tree_of(subjects[0]) if subjects else None
    full: Any = scorer.full if isinstance(scorer, VariantScorer) else scorer
    together = [i for i, s in enumerate(subjects) if _batchable(s, scorer, full)]
    if len(together) > 1:
        runs = [subjects[i].run for i in together]
        for i, part in zip(together, _split(full.score_batch(runs), runs), strict=True):
            out[i] = _results("tree_score", "tree", full, subjects[i].run, part, [])
    return [out[i] if i in out else tree_score_run(s) for i, s in enumerate(subjects)]


def _batchable(subject: Subject, scorer: Scorer | None, full: Any) -> bool:
    """Whether the full model scores this whole run, with the batch's scorer."""
    if scorer is None or _tree_of(subject) is not scorer or not hasattr(full, "score_batch"):
        return False
    if subject.job_id is not None or not len(subject.run.frame):
        return False
    return not isinstance(scorer, VariantScorer) or scorer.for_run(subject.run) is full


def _tree_of(subject: Subject) -> Scorer | None:
    return (subject.services.get(SCORERS) or {}).get("tree")


def _split(scores: pd.DataFrame, runs: Sequence[Run]) -> list[pd.DataFrame]:
    at = np.cumsum([0, *(len(r.frame) for r in runs)])
    return [scores.iloc[at[k] : at[k + 1]] for k in range(len(runs))]
