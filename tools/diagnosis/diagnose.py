"""Diagnose a run or a job: the measured models, read together with the hint tools."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from flowsleuth.tools.diagnosis.model import DiagnosisModel, RunView
from flowsleuth.tools.diagnosis.schema import CulpritHost, JobDiagnosis, RunDiagnosis
from flowsleuth.workflows.contract import ServiceKey, Subject, ToolStatus
from flowsleuth.workflows.models import Run

_EVIDENCE = (
    "base_runtime_p50",
    "base_stage_in_delay_p50",
    "hz_runtime_max",
    "hz_cpu_time_max",
    "hr_runtime_std",
    "hz_stage_in_delay_max",
    "base_read_bps_p50",
)
DIAGNOSIS_MODEL: ServiceKey[DiagnosisModel] = ServiceKey("diagnosis_model")
"""The fitted diagnosis model of the home (else the demo model is used)."""


def _kind(label: str) -> str:
    return "normal" if label == "None" else label.split("_")[0]


def _notes(kind: str, baseline_used: bool, n_hosts: int) -> list[str]:
    notes = []
    if not baseline_used:
        notes.append("no normal profile for this workflow: only in-run comparisons were used")
    if kind == "hdd":
        notes.append(
            "disk throttling slows every host of the run; culprit hosts are hard to "
            "single out, so their confidence is lower"
        )
    if kind == "cpu":
        notes.append("cpu blocking barely shows on I/O-bound transformations")
    if n_hosts < 2:
        notes.append("a single host: no peers to compare hosts against")
    return notes


def diagnose_view(
    model: DiagnosisModel,
    view: RunView,
    n_jobs: pd.Series,
    run_id: str,
    workflow: str,
    max_culprits: int = 30,
) -> RunDiagnosis:
    """The diagnosis from a precomputed view; ``n_jobs`` is the job count per host."""
    baseline_used = bool(view.hosts.filter(like="hbase_").notna().to_numpy().any())
    return verdict(
        model,
        model.run_probabilities(view),
        model.host_probabilities(view),
        n_jobs,
        (run_id, workflow),
        baseline_used,
        view.run_feats,
        max_culprits,
    )


def verdict(
    model: DiagnosisModel,
    probs: dict[str, float],
    host_probs: pd.Series,
    n_jobs: pd.Series,
    run: tuple[str, str],
    baseline_used: bool,
    run_feats: dict[str, float],
    max_culprits: int = 30,
) -> RunDiagnosis:
    """The diagnosis from both models' outputs: ``probs`` (run class), ``host_probs`` (host is
    a culprit), ``n_jobs`` per host; ``run`` is (run id, workflow)."""
    run_id, workflow = run
    kinds: dict[str, float] = {}
    for label, p in probs.items():
        kinds[_kind(label)] = kinds.get(_kind(label), 0.0) + p
    kind = max(kinds, key=kinds.__getitem__)
    label = max((lb for lb in probs if _kind(lb) == kind), key=probs.__getitem__)
    hosts = host_probs.sort_values(ascending=False)
    culprits: list[CulpritHost] = []
    if kind != "normal":
        flagged = hosts[hosts >= model.artifact.threshold]
        if flagged.empty and len(hosts):
            flagged = hosts.iloc[:1]  # an anomalous run has at least one culprit host
        culprits = [
            CulpritHost(host=str(h), confidence=round(float(p), 4), n_jobs=int(n_jobs.get(h, 0)))
            for h, p in flagged.iloc[:max_culprits].items()
        ]
    total = int(n_jobs.sum())
    affected = sum(c.n_jobs for c in culprits) / max(total, 1)
    return RunDiagnosis(
        run_id=run_id,
        workflow=workflow,
        kind=kind,
        label=label,
        severity=None if label == "None" else int(label.split("_")[1]),
        kind_confidence=round(kinds[kind], 4),
        label_confidence=round(probs[label], 4),
        class_probabilities={k: round(v, 4) for k, v in probs.items()},
        culprits=culprits,
        host_scores={str(h): round(float(p), 4) for h, p in hosts.items()},
        share_of_jobs_affected=round(affected, 4),
        n_jobs=total,
        n_hosts=len(hosts),
        baseline_used=baseline_used,
        evidence={
            k: round(float(run_feats[k]), 4) for k in _EVIDENCE if k in run_feats and pd.notna(run_feats[k])
        },
        notes=_notes(kind, baseline_used, len(hosts)),
    )


def diagnose_run(
    subject_or_run: Subject | Run, model: DiagnosisModel | None = None, max_culprits: int = 30
) -> RunDiagnosis:
    """The run's anomaly class (normal / cpu_K / hdd_K) and culprit hosts with confidences.

    The model: ``model``, else the subject's :data:`DIAGNOSIS_MODEL` service, else the demo one.
    """
    subject = subject_or_run if isinstance(subject_or_run, Subject) else Subject(subject_or_run)
    if model is None:
        model = subject.services.get(DIAGNOSIS_MODEL)
    if model is None:
        from flowsleuth.tools.diagnosis.default import default_model

        model = default_model()
    run = subject.run
    view = RunView.of(run, subject.baseline or model.baseline)
    n_jobs = run.frame["kickstart_hostname"].fillna("").value_counts()
    return diagnose_view(model, view, n_jobs, run.run_id, run.workflow, max_culprits)


def job_anomaly_score(diag: RunDiagnosis, host: str) -> float:
    """P(a job on ``host`` is anomalous) = P(run anomalous) x P(host is a culprit | anomalous)."""
    p_run = 1.0 - diag.class_probabilities.get("None", 0.0)
    return round(p_run * diag.host_scores.get(host, 0.0), 4)


def job_verdict(run_diag: RunDiagnosis, host: str) -> tuple[str, float, float]:
    """(label, P(that label), P(host is a culprit)) of a job on ``host``: the run's class where
    its host is a culprit, else None."""
    is_culprit = host in {c.host for c in run_diag.culprits}
    host_conf = run_diag.host_scores.get(host, 0.0)
    label = run_diag.label if is_culprit else "None"
    p_anom = (
        run_diag.kind_confidence * host_conf if is_culprit else 1.0 - run_diag.kind_confidence * host_conf
    )
    return label, p_anom, host_conf


def diagnose_job(
    subject: Subject,
    model: DiagnosisModel | None = None,
    run_hints: bool = True,
    run_diag: RunDiagnosis | None = None,
) -> JobDiagnosis:
    """The job's predicted label: the run's class where its host is a culprit, else None.

    ``run_diag``: the run's diagnosis when already computed (diagnosing every job of a run).
    With ``run_hints`` the built-in hint tools run too and their summaries are attached.
    """
    job = subject.job
    if run_diag is None:
        run_diag = diagnose_run(subject, model)
    label, p_anom, host_conf = job_verdict(run_diag, job.host)
    hints: dict[str, str] = {}
    signature = None
    if run_hints and subject.baseline is None:
        from flowsleuth.tools.diagnosis.default import default_model

        subject = replace(subject, job_id=job.node_id, baseline=(model or default_model()).baseline)
    if run_hints:
        from flowsleuth.tools.hints import HINTS

        for name, fn in HINTS.items():
            try:
                res = fn(subject)
            except Exception as err:  # a hint must never stop the diagnosis
                hints[name] = f"error: {err}"
                continue
            hints[name] = res.summary
            if name == "resource_signature" and res.status is ToolStatus.OK:
                signature = str(res.data.get("signature"))
    return JobDiagnosis(
        run_id=run_diag.run_id,
        node_id=job.node_id,
        host=job.host,
        transformation=job.transformation,
        kind=_kind(label),
        label=label,
        confidence=round(p_anom, 4),
        host_confidence=round(host_conf, 4),
        run=run_diag,
        signature=signature,
        hints=hints,
        notes=run_diag.notes,
    )
