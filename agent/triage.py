"""Triage a whole run: every job's row from the run's one scoring pass, a run-level summary, and
LLM explanations for the top flagged jobs only (each from that job's own decision)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowsleuth.agent.deps import Deps
from flowsleuth.agent.investigate import investigate
from flowsleuth.agent.triage_models import RunTriage, TriageRow
from flowsleuth.tools.decision.decide import GENERALIST, TRAINED_TIER
from flowsleuth.tools.diagnosis.schema import CulpritHost
from flowsleuth.tools.registry.builtins import DIAGNOSIS_TOOL

Explain = Callable[[str], str | None]


def triage_run(deps: Deps, explain: int = 0, on_explain: Explain | None = None) -> RunTriage:
    """Rows for every job of ``deps.subject.run``; explain the ``explain`` highest-scoring
    flagged jobs through the investigation graph, which reads the same decisions."""
    run = deps.subject.run
    frame = run.frame
    rows: list[TriageRow] = []
    # whole columns, in the index's order (two ``.at`` lookups a job cost more than its row)
    columns = zip(
        frame["kickstart_transformations"].tolist(), frame["kickstart_hostname"].tolist(), strict=True
    )
    for job_id, (transformation, host) in zip(run.job_ids, columns, strict=True):
        d = deps.scores.decisions[job_id]
        rows.append(
            TriageRow(
                workflow=run.workflow,
                run=run.run_id,
                job_id=job_id,
                transformation=str(transformation),
                host=str(host),
                is_anomalous=d.is_anomalous,
                score=d.score,
                anomaly_class=d.anomaly_class,
                culprit=d.culprit,
                explanation=None,
                tier=d.tier,
            )
        )
    top = sorted((r for r in rows if r.is_anomalous), key=lambda r: -(r.score or 0.0))[:explain]
    for row in top:
        row.explanation = investigate(deps, row.job_id).explanation
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
        threshold=deps.scores.threshold,
        rows=rows,
        **_run_summary(deps, rows),
    )


def _run_summary(deps: Deps, rows: list[TriageRow]) -> dict[str, Any]:
    """The run's kind, class, culprit hosts and tier: the generalist's judgement when it decides
    the run, else the run diagnosis."""
    gen = deps.scores.run_result(GENERALIST) if deps.scores.generalist_leads else None
    if gen is not None:
        kind = str(gen.data["run_kind"])
        return {
            "anomaly_kind": kind,
            "anomaly_class": kind if kind != "normal" else "None",
            "kind_confidence": gen.data["kind_probs"].get(kind),
            "culprits": _culprits(rows),
            "tier": str(gen.data["tier"]),
            "notes": deps.scores.notes,
        }
    diag = deps.scores.run_result(DIAGNOSIS_TOOL)
    data = diag.data if diag is not None else {}
    return {
        "anomaly_kind": str(data.get("kind", "unknown")),
        "anomaly_class": str(data.get("label", "unknown")),
        "kind_confidence": data.get("kind_confidence"),
        "culprits": list(data.get("culprits", [])),
        "tier": TRAINED_TIER,
        "notes": [],
    }


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
