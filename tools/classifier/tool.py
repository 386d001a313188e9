"""Agent tools over the loaded scorers: ``sft_score`` and ``tree_score``.

Each finds its model in ``subject.extras["models"]`` (name -> loaded scorer), scores the whole
run once (cached in ``subject.extras``) and reports the subject job, or the run's top jobs.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from flowsleuth.workflows.contract import Finding, Subject, ToolResult
from flowsleuth.workflows.errors import FlowsleuthError

_CACHE = "classifier_scores"
_TOP = 5


def _find(subject: Subject, kind: str) -> Any | None:
    models = subject.extras.get("models") or {}
    return next((m for m in models.values() if getattr(m, "kind", None) == kind), None)


def _scores(subject: Subject, scorer: Any) -> pd.DataFrame:
    cache: dict[tuple[str, str], pd.DataFrame] = subject.extras.setdefault(_CACHE, {})
    key = (scorer.name, subject.run.run_id)
    if key in cache:
        return cache[key]
    if subject.job_id is not None and hasattr(scorer, "score_jobs"):
        # an encoder costs per job: score the subject alone (its input keeps the run's context)
        return scorer.score_jobs(subject.run, [subject.job_id])
    cache[key] = scorer.score_runs([subject.run])
    return cache[key]


def _score_tool(tool: str, kind: str, subject: Subject) -> ToolResult:
    inv: dict[str, Any] = {"run_id": subject.run.run_id, "job_id": subject.job_id}
    scorer = _find(subject, kind)
    if scorer is None:
        return ToolResult.no_data(
            tool, f"no {kind} model is loaded; train one with `flowsleuth train --scorer {kind}`", **inv
        )
    try:
        scores = _scores(subject, scorer)
    except (FlowsleuthError, ValueError, RuntimeError) as err:
        return ToolResult.failed(tool, f"{type(err).__name__}: {err}", **inv)
    model = {
        "name": scorer.name,
        "template": scorer.meta.template,
        "threshold": scorer.meta.calibration.threshold,
    }
    if subject.job_id is not None:
        if subject.job_id not in scores.index:
            return ToolResult.failed(
                tool, f"job {subject.job_id!r} is not in run {subject.run.run_id}", **inv
            )
        row = scores[scores["node_id"] == subject.job_id].iloc[0]
        data = {
            "score": round(float(row["score"]), 4),
            "pred_class": row["pred_class"],
            "class_probs": row["class_probs"],
            "model": model,
        }
        verdict: Literal["anomalous", "normal"] = "anomalous" if row["pred_class"] != "None" else "normal"
        summary = (
            f"{scorer.name}: P(anomalous)={data['score']:.2f} for {subject.job_id} "
            f"-> {verdict} ({row['pred_class']})"
        )
        finding = Finding(
            about="classifier",
            text=f"{kind} classifier P(anomalous) {data['score']:.2f}: {verdict} ({row['pred_class']})",
            numbers=[round(data["score"], 2)],
            direction=verdict,
        )
        return ToolResult.ok(tool, data, summary, findings=[finding], **inv)
    flagged = scores[scores["pred_class"] != "None"]
    top = scores.nlargest(_TOP, "score")
    data = {
        "jobs": len(scores),
        "flagged": len(flagged),
        "flagged_classes": flagged["pred_class"].value_counts().to_dict(),
        "top": [
            {"node_id": n, "score": round(float(s), 4), "pred_class": c}
            for n, s, c in zip(top["node_id"], top["score"], top["pred_class"], strict=True)
        ],
        "model": model,
    }
    summary = f"{scorer.name}: {len(flagged)} of {len(scores)} jobs look anomalous"
    return ToolResult.ok(tool, data, summary, **inv)


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
