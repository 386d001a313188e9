"""Agent tool ``generalist_score``: the workflow-agnostic score of a job, at the best tier the
home allows (zero-shot, history, labelled). Finds its judge in the subject's services under
:data:`GENERALIST`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from flowsleuth.tools.generalist.scoring import RunJudgement
from flowsleuth.tools.topn import largest
from flowsleuth.workflows.contract import Finding, RunResults, ServiceKey, Subject, ToolResult
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run

TOOL = "generalist_score"


class Judge(Protocol):
    def judge(self, run: Run) -> RunJudgement: ...


GENERALIST: ServiceKey[Judge] = ServiceKey("generalist")
"""The generalist judge (:class:`~flowsleuth.tools.generalist.judge.GeneralistJudge`)."""


def _base(j: RunJudgement) -> dict[str, Any]:
    return {
        "threshold": j.threshold,
        "run_kind": j.kind,
        "kind_probs": j.kind_probs,
        "tier": str(j.tier),
        "notes": list(j.notes),
    }


def _job(j: RunJudgement, job_id: str, inv: dict[str, Any]) -> ToolResult:
    score = round(float(j.scores[job_id]), 4)
    anomalous = score >= j.threshold
    cls = j.job_class() if anomalous else "None"
    verdict: Literal["anomalous", "normal"] = "anomalous" if anomalous else "normal"
    summary = f"generalist ({j.tier}): P(anomalous)={score:.2f} for {job_id}, threshold {j.threshold:.2f}"
    finding = Finding(
        about="classifier",
        text=f"workflow-agnostic model ({j.tier}) P(anomalous) {score:.2f}: {verdict}",
        numbers=[round(score, 2)],
        direction=verdict,
    )
    return ToolResult.ok(
        TOOL, {"score": score, "pred_class": cls, **_base(j)}, summary, findings=[finding], **inv
    )


def _run(j: RunJudgement, inv: dict[str, Any]) -> ToolResult:
    scores = j.scores.to_numpy()
    nodes = j.scores.index
    n = int((scores >= j.threshold).sum())  # j.flagged
    data = {
        "jobs": len(j.scores),
        "flagged": n,
        "top": [{"node_id": nodes[i], "score": float(scores[i])} for i in largest(scores, 5)],
        **_base(j),
    }
    return ToolResult.ok(
        TOOL, data, f"generalist ({j.tier}): {n} of {len(j.scores)} jobs flagged; run kind {j.kind}", **inv
    )


def generalist_score_run(subject: Subject, judged: RunJudgement | None = None) -> RunResults:
    """:func:`generalist_score` for the run and each of its jobs (the focus job alone when the
    subject has one), in one pass (``judged``: the run's judgement, when already made)."""
    run = subject.run
    jobs = subject.focus_jobs
    judge = subject.services.get(GENERALIST)
    if judge is None:
        none = ToolResult.no_data(TOOL, "no generalist model is loaded", run_id=run.run_id)
        return RunResults(dict.fromkeys(jobs, none))
    try:
        j = judged if judged is not None else judge.judge(run)
    except (FlowsleuthError, ValueError) as err:
        failed = ToolResult.failed(TOOL, f"{type(err).__name__}: {err}", run_id=run.run_id)
        return RunResults(dict.fromkeys(jobs, failed), failed)
    per_job = {
        job: _job(j, job, {"run_id": run.run_id, "job_id": job}) for job in jobs if job in j.scores.index
    }
    return RunResults(per_job, _run(j, {"run_id": run.run_id, "job_id": None}))


def generalist_score_runs(subjects: Sequence[Subject]) -> list[RunResults]:
    """:func:`generalist_score_run` of each subject, the runs judged in one pass when the judge
    can (:meth:`~.judge.GeneralistJudge.judge_many`)."""
    judges = [s.services.get(GENERALIST) for s in subjects]
    many = getattr(judges[0], "judge_many", None) if judges else None
    if many is None or any(j is not judges[0] for j in judges):
        return [generalist_score_run(s) for s in subjects]
    judged = many([s.run for s in subjects])
    return [generalist_score_run(s, j) for s, j in zip(subjects, judged, strict=True)]


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
    out = generalist_score_run(subject)
    if subject.job_id is None:
        return out.run or next(
            iter(out.jobs.values()), ToolResult.no_data(TOOL, "the run has no jobs", **inv)
        )
    return out.jobs.get(subject.job_id) or ToolResult.failed(
        TOOL, f"job {subject.job_id!r} is not in run {subject.run.run_id}", **inv
    )
