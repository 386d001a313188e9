"""Triage a whole run: every job's row from the run's one scoring pass, a run-level summary, and
LLM explanations for the top flagged jobs only (each from that job's own decision)."""

from __future__ import annotations

from collections.abc import Callable

from flowsleuth.agent.deps import Deps
from flowsleuth.agent.investigate import investigate
from flowsleuth.agent.triage_models import RunTriage, TriageRow
from flowsleuth.tools.registry.builtins import DIAGNOSIS_TOOL

Explain = Callable[[str], str | None]


def triage_run(deps: Deps, explain: int = 0, on_explain: Explain | None = None) -> RunTriage:
    """Rows for every job of ``deps.subject.run``; explain the ``explain`` highest-scoring
    flagged jobs through the investigation graph, which reads the same decisions."""
    run = deps.subject.run
    frame = run.frame
    rows: list[TriageRow] = []
    for job_id in run.job_ids:
        d = deps.scores.decisions[job_id]
        rows.append(
            TriageRow(
                workflow=run.workflow,
                run=run.run_id,
                job_id=job_id,
                transformation=str(frame.at[job_id, "kickstart_transformations"]),
                host=str(frame.at[job_id, "kickstart_hostname"]),
                is_anomalous=d.is_anomalous,
                score=d.score,
                anomaly_class=d.anomaly_class,
                culprit=d.culprit,
                explanation=None,
            )
        )
    top = sorted((r for r in rows if r.is_anomalous), key=lambda r: -(r.score or 0.0))[:explain]
    for row in top:
        row.explanation = investigate(deps, row.job_id).explanation
        if on_explain is not None:
            on_explain(row.job_id)
    diag = deps.scores.run_result(DIAGNOSIS_TOOL)
    data = diag.data if diag is not None else {}
    n_flagged = sum(r.is_anomalous for r in rows)
    return RunTriage(
        workflow=run.workflow,
        run=run.run_id,
        source=run.source,
        n_jobs=len(rows),
        n_flagged=n_flagged,
        share_flagged=round(n_flagged / max(len(rows), 1), 4),
        anomaly_kind=str(data.get("kind", "unknown")),
        anomaly_class=str(data.get("label", "unknown")),
        kind_confidence=data.get("kind_confidence"),
        culprits=list(data.get("culprits", [])),
        threshold=deps.scores.threshold,
        rows=rows,
    )
