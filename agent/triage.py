"""Fast-path triage of a whole run: batch scores from every source, fused per job, a run-level
diagnosis, and LLM explanations for the top flagged jobs only."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
from flowsleuth.agent.investigate import investigate
from flowsleuth.agent.triage_models import RunTriage, TriageRow
from flowsleuth.cli.app.toolkit import SCORER_TOOLS, Toolkit
from flowsleuth.tools.decision.decide import pick_class
from flowsleuth.tools.diagnosis.schema import CulpritHost
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.models import Run

Explain = Callable[[str], str | None]


def batch_sources(kit: Toolkit, subject: Subject) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """(scores, classes, run diagnosis): one row per job, one column per source tool."""
    from flowsleuth.retrieval import vote_run
    from flowsleuth.tools.diagnosis import diagnose_run, job_anomaly_score

    run = subject.run
    scores = pd.DataFrame(index=run.frame.index)
    classes = pd.DataFrame(index=run.frame.index)
    for name, scorer in kit.models.items():
        out = scorer.score_runs([run]).set_index("node_id")
        scores[SCORER_TOOLS[name]] = out["score"].astype(float)
        classes[SCORER_TOOLS[name]] = out["pred_class"].astype(str)
    if kit.index is not None:
        votes = vote_run(kit.index, subject)
        scores["knn_vote"] = [votes[j].score if votes.get(j) else math.nan for j in run.job_ids]  # type: ignore[union-attr]
        classes["knn_vote"] = [votes[j].predicted_class if votes.get(j) else "" for j in run.job_ids]  # type: ignore[union-attr]
    diag = diagnose_run(subject, model=kit.diagnosis)
    hosts = run.frame["kickstart_hostname"].fillna("")
    scores["run_diagnosis"] = [job_anomaly_score(diag, h) for h in hosts]
    classes["run_diagnosis"] = diag.label
    return scores, classes, diag


def triage_run(kit: Toolkit, run: Run, explain: int = 0, on_explain: Explain | None = None) -> RunTriage:
    """Score every job of ``run``; explain the ``explain`` highest-scoring flagged jobs."""
    from flowsleuth.agent.tiers import TRAINED_TIER, uses_generalist

    subject = kit.subject(run)
    scores, classes, diag = batch_sources(kit, subject)
    fusion = kit.fusion_for(run)
    judge = kit.generalist
    use = judge is not None and uses_generalist(kit.fusion, judge, run.workflow)
    judged = judge.judge(run) if judge is not None and use else None
    if judged is not None:
        scores["generalist_score"] = judged.scores.reindex(run.job_ids).to_numpy()
        classes = pd.DataFrame({"generalist_score": judged.job_class()}, index=run.frame.index)
    tier = str(judged.tier) if judged is not None else TRAINED_TIER
    rows: list[TriageRow] = []
    score_rows = scores.to_dict("index")
    class_rows = classes.to_dict("index")
    for job_id in run.job_ids:
        srcs = {str(k): float(v) for k, v in score_rows[job_id].items() if not math.isnan(v)}
        fused = fusion.predict(srcs)
        flagged = fused is not None and fused >= fusion.threshold
        host = str(run.frame.at[job_id, "kickstart_hostname"])
        rows.append(
            TriageRow(
                workflow=run.workflow,
                run=run.run_id,
                job_id=job_id,
                transformation=str(run.frame.at[job_id, "kickstart_transformations"]),
                host=host,
                is_anomalous=flagged,
                score=None if fused is None else round(fused, 4),
                anomaly_class=pick_class({str(k): str(v) for k, v in class_rows[job_id].items()})
                if flagged
                else "None",
                culprit=host if flagged else None,
                explanation=None,
                tier=tier,
            )
        )
    top = sorted((r for r in rows if r.is_anomalous), key=lambda r: -(r.score or 0.0))[:explain]
    if top:
        deps = kit.deps(run)
        for row in top:
            v = investigate(deps, row.job_id)
            row.explanation = v.explanation
            if on_explain is not None:
                on_explain(row.job_id)
    n_flagged = sum(r.is_anomalous for r in rows)
    return RunTriage(
        workflow=run.workflow,
        run=run.run_id,
        source=run.source,
        n_jobs=len(rows),
        n_flagged=n_flagged,
        share_flagged=round(n_flagged / max(len(rows), 1), 4),
        anomaly_kind=judged.kind if judged is not None else diag.kind,
        anomaly_class=judged.kind
        if judged is not None and judged.kind != "normal"
        else ("None" if judged is not None else diag.label),
        kind_confidence=judged.kind_probs[judged.kind] if judged is not None else diag.kind_confidence,
        culprits=_culprits(rows) if judged is not None else list(diag.culprits),
        threshold=fusion.threshold,
        tier=tier,
        notes=judged.notes if judged is not None else [],
        rows=rows,
    )


def _culprits(rows: list[TriageRow]) -> list[CulpritHost]:
    """Hosts most of whose jobs are flagged (labels are per host), highest mean score first."""
    by_host: dict[str, list[TriageRow]] = {}
    for r in rows:
        by_host.setdefault(r.host, []).append(r)
    out = []
    for host, rs in by_host.items():
        if sum(r.is_anomalous for r in rs) * 2 > len(rs):
            mean = sum(r.score or 0.0 for r in rs) / len(rs)
            out.append(CulpritHost(host=host, confidence=round(mean, 4), n_jobs=len(rs)))
    return sorted(out, key=lambda c: -c.confidence)
