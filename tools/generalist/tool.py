"""Agent tool ``generalist_score``: the workflow-agnostic score of a job, at the best tier the
home allows (zero-shot, history, labelled). Finds its judge in ``subject.extras["generalist"]``."""

from __future__ import annotations

from typing import Any, Protocol

from flowsleuth.tools.generalist.scoring import RunJudgement
from flowsleuth.workflows.contract import Subject, ToolResult
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run

TOOL = "generalist_score"


class Judge(Protocol):
    def judge(self, run: Run) -> RunJudgement: ...


def judgement(subject: Subject) -> RunJudgement | None:
    judge: Judge | None = subject.extras.get("generalist")
    return judge.judge(subject.run) if judge is not None else None


def generalist_score(subject: Subject) -> ToolResult:
    """Score a job with the workflow-agnostic model: how the job and its host compare with the
    rest of its own run (and with the workflow's past runs, when the user added them).

    Works on workflows never seen in training. Returns data.score: calibrated probability (0-1)
    that the job is anomalous, data.threshold (flag at or above it), data.pred_class ('None', or
    the run's anomaly kind 'cpu' / 'hdd'), data.run_kind with data.kind_probs, and data.tier:
    'zero-shot', 'history (n runs)' or 'labelled (n runs)', saying what the verdict rests on.
    Without a job, reports how many jobs of the run are flagged and the top five.
    """
    inv: dict[str, Any] = {"run_id": subject.run.run_id, "job_id": subject.job_id}
    try:
        j = judgement(subject)
    except (FlowsleuthError, ValueError) as err:
        return ToolResult.failed(TOOL, f"{type(err).__name__}: {err}", **inv)
    if j is None:
        return ToolResult.no_data(TOOL, "no generalist model is loaded", **inv)
    base = {
        "threshold": j.threshold,
        "run_kind": j.kind,
        "kind_probs": j.kind_probs,
        "tier": str(j.tier),
        "notes": j.notes,
    }
    if subject.job_id is not None:
        if subject.job_id not in j.scores.index:
            return ToolResult.failed(
                TOOL, f"job {subject.job_id!r} is not in run {subject.run.run_id}", **inv
            )
        score = float(j.scores[subject.job_id])
        cls = j.job_class() if score >= j.threshold else "None"
        data = {"score": score, "pred_class": cls, **base}
        summary = (
            f"generalist ({j.tier}): P(anomalous)={score:.2f} for {subject.job_id}, "
            f"threshold {j.threshold:.2f}"
        )
        return ToolResult.ok(TOOL, data, summary, **inv)
    top = j.scores.nlargest(5)
    data = {
        "jobs": len(j.scores),
        "flagged": int(j.flagged.sum()),
        "top": [{"node_id": n, "score": float(s)} for n, s in top.items()],
        **base,
    }
    summary = (
        f"generalist ({j.tier}): {int(j.flagged.sum())} of {len(j.scores)} jobs flagged; run kind {j.kind}"
    )
    return ToolResult.ok(TOOL, data, summary, **inv)
