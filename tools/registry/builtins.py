"""The tools flowsleuth ships: the four root-cause hints and the run diagnosis."""

from __future__ import annotations

from flowsleuth.tools.hints import HINTS
from flowsleuth.tools.registry.core import Registry
from flowsleuth.workflows.contract import Finding, Subject, ToolResult

DIAGNOSIS_TOOL = "run_diagnosis"


def run_diagnosis(subject: Subject) -> ToolResult:
    """Which anomaly hit this run, which hosts carry it, and is this job's host one of them?

    Classes: normal, cpu_K (K cores blocked), hdd_K (disk throttled to K MB/s). From a model
    fitted on labelled training runs and calibrated on validation runs. `label`
    with `label_confidence`, `kind` (normal/cpu/hdd) with `kind_confidence`, `culprits` (host,
    calibrated confidence, jobs), `share_of_jobs_affected`, and for a job: `job_label`,
    `job_confidence`, `host_confidence`. `notes` says what the data cannot show (e.g. disk
    throttling slows every host, so hdd culprits are less certain).
    """
    from flowsleuth.tools.diagnosis.diagnose import diagnose_job, diagnose_run, job_anomaly_score

    if subject.job_id is None:
        diag = diagnose_run(subject)
        data = diag.model_dump()
        summary = (
            f"run {diag.run_id}: {diag.label} (p {diag.label_confidence:.2f}), "
            f"{len(diag.culprits)} culprit host(s)"
        )
        return ToolResult.ok(DIAGNOSIS_TOOL, data, summary, run=diag.run_id)
    job = diagnose_job(subject, run_hints=False)
    data = {
        **job.run.model_dump(),
        "job_label": job.label,
        "job_confidence": job.confidence,
        "host_confidence": job.host_confidence,
        "score": job_anomaly_score(job.run, job.host),
    }
    summary = (
        f"run {job.run_id}: {job.run.label} (p {job.run.label_confidence:.2f}); job "
        f"{job.node_id} on {job.host}: {job.label} (p {job.confidence:.2f})"
    )
    culprit = job.label != "None"
    finding = Finding(
        about="diagnosis",
        text=f"run diagnosed {job.run.label} (p {job.run.label_confidence:.2f}); host {job.host} "
        + (
            f"is a culprit (p {job.confidence:.2f})"
            if culprit
            else f"is not a culprit (p {job.confidence:.2f})"
        ),
        numbers=[round(job.run.label_confidence, 2), round(job.confidence, 2)],
        direction="anomalous" if culprit else "normal",
    )
    return ToolResult.ok(DIAGNOSIS_TOOL, data, summary, findings=[finding], job=job.node_id)


def register_builtins(registry: Registry) -> Registry:
    from flowsleuth.tools.classifier import sft_score, tree_score
    from flowsleuth.tools.generalist.tool import generalist_score

    registry.register(tree_score, name="tree_score", source="builtin", kind="score")
    registry.register(generalist_score, name="generalist_score", source="builtin", kind="score")
    registry.register(sft_score, name="sft_score", source="builtin", kind="score", timeout_s=60.0)
    for name, fn in HINTS.items():
        registry.register(fn, name=name, source="builtin", kind="hint")
    registry.register(run_diagnosis, name=DIAGNOSIS_TOOL, source="builtin", kind="diagnosis", timeout_s=120.0)
    return registry
