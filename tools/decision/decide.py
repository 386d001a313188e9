"""The verdict's numbers: fused score, class, culprit and confidence, from tool results only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.workflows.contract import ToolResult, ToolStatus
from pydantic import BaseModel, Field

Confidence = Literal["low", "medium", "high"]


class Decision(BaseModel):
    score: float | None = Field(description="fused, calibrated P(anomalous); None when no source scored")
    is_anomalous: bool
    anomaly_class: str = Field(description="'None', or a class such as 'cpu', 'hdd_5'")
    culprit: str | None
    confidence: Confidence
    sources: dict[str, float] = Field(description="each source's own score")
    tier: str | None = Field(
        default=None,
        description="what the verdict rests on: 'trained (known workflow)', 'zero-shot', "
        "'history (n runs)' or 'labelled (n runs)'",
    )


def source_scores(results: Sequence[ToolResult]) -> dict[str, float]:
    """``data['score']`` of every successful tool that gives one (last result wins per tool)."""
    out: dict[str, float] = {}
    for r in results:
        s = r.data.get("score") if r.status is ToolStatus.OK else None
        if isinstance(s, int | float) and not isinstance(s, bool) and math.isfinite(s):
            out[r.tool] = float(s)
    return out


# Where a class comes from, best first: the run diagnosis sees the whole run (labels are per run
# and per host), the job scorers see one job.
CLASS_FIELDS: tuple[tuple[str, str], ...] = (
    ("run_diagnosis", "label"),
    ("tree_score", "pred_class"),
    ("sft_score", "pred_class"),
    ("knn_vote", "predicted_class"),
    ("generalist_score", "pred_class"),
)
_NORMAL = ("None", "normal", "anomalous", "")


def pick_class(classes: dict[str, str]) -> str:
    """The anomaly class for a flagged job from each source's class (tool name -> class)."""
    ranked = [t for t, _ in CLASS_FIELDS] + sorted(set(classes) - {t for t, _ in CLASS_FIELDS})
    for tool in ranked:
        cls = classes.get(tool)
        if cls and cls not in _NORMAL:
            return cls
    return "unknown"


def result_classes(results: Sequence[ToolResult]) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in results:
        if r.status is not ToolStatus.OK:
            continue
        for tool, field in CLASS_FIELDS:
            if r.tool == tool and isinstance(r.data.get(field), str):
                out[tool] = r.data[field]
        probs = r.data.get("class_probs")
        if r.tool not in out and isinstance(probs, dict) and probs:
            out[r.tool] = max(probs, key=lambda k: probs[k] if k not in _NORMAL else -1.0)
    return out


def _confidence(score: float, threshold: float, sources: dict[str, float]) -> Confidence:
    margin = abs(score - threshold)
    votes = {s >= threshold for s in sources.values()}
    if margin >= 0.3 and len(votes) == 1 and len(sources) >= 2:
        return "high"
    if margin < 0.15 or len(votes) > 1:
        return "low"
    return "medium"


def recorded_decision(results: Sequence[ToolResult], host: str | None) -> Decision | None:
    """What the workflow system recorded, when it settles the question: a failed, held or
    retried job is anomalous (certain, class = what happened); a job that never ran has no
    measurements to score. None when there is no record or it settles nothing."""
    from flowsleuth.tools.job_state import JOB_STATE_TOOL, recorded_state

    state = recorded_state(results)
    if state is None:
        return None
    if state.get("problem"):
        sources = {**source_scores(results), JOB_STATE_TOOL: 1.0}
        return Decision(
            score=1.0,
            is_anomalous=True,
            anomaly_class=str(state["problem"]),
            culprit=host if host and host != "unknown" else None,
            confidence="high",
            sources={k: round(v, 4) for k, v in sources.items()},
        )
    if state.get("outcome") == "unsubmitted":
        return Decision(
            score=None, is_anomalous=False, anomaly_class="None", culprit=None, confidence="low", sources={}
        )
    return None


GENERALIST = "generalist_score"
TRAINED_TIER = "trained (known workflow)"


def _tier(results: Sequence[ToolResult], fusion: Fusion) -> str:
    if GENERALIST not in fusion.sources:
        return TRAINED_TIER
    tiers = [r.data.get("tier") for r in results if r.tool == GENERALIST and r.status is ToolStatus.OK]
    return str(tiers[-1]) if tiers else "zero-shot"


def decide(results: Sequence[ToolResult], fusion: Fusion, host: str | None) -> Decision:
    """Fuse the sources; with no source at all the honest answer is 'not anomalous, low'.
    When the fusion is the generalist's (a workflow without its own fit), its class leads.
    A recorded failure, hold or retry (the ``job_state`` tool) decides first."""
    recorded = recorded_decision(results, host)
    if recorded is not None:
        return recorded
    sources = source_scores(results)
    score = fusion.predict(sources)
    tier = _tier(results, fusion)
    if score is None:
        return Decision(
            score=None,
            is_anomalous=False,
            anomaly_class="None",
            culprit=None,
            confidence="low",
            sources={},
            tier=tier,
        )
    anomalous = score >= fusion.threshold
    classes = result_classes(results)
    if GENERALIST in fusion.sources and classes.get(GENERALIST) not in (None, *_NORMAL):
        classes = {GENERALIST: classes[GENERALIST]}
    cls = pick_class(classes) if anomalous else "None"
    return Decision(
        score=round(score, 4),
        is_anomalous=anomalous,
        anomaly_class=cls,
        culprit=host if anomalous else None,
        confidence=_confidence(score, fusion.threshold, fusion.fused(sources)),
        sources={k: round(v, 4) for k, v in sources.items()},
        tier=tier,
    )


def decision_numbers(decision: Decision) -> list[float]:
    """The numbers the decision itself contributes to what a narration may quote."""
    nums = [decision.score] if decision.score is not None else []
    return nums + list(decision.sources.values())
