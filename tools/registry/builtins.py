"""The tools flowsleuth ships: classifier and generalist scores, the four root-cause hints and
the run diagnosis.

They are registered through this project's own ``flowsleuth.tools`` entry point (see
pyproject.toml), exactly like a plugin's: :func:`register_tools` is the hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flowsleuth.tools.hints import HINTS
from flowsleuth.workflows.contract import Finding, RunResults, Subject, ToolResult

if TYPE_CHECKING:
    from flowsleuth.tools.diagnosis.schema import RunDiagnosis

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
    out = run_diagnosis_run(subject, jobs=() if subject.job_id is None else (subject.job_id,))
    if subject.job_id is None:
        assert out.run is not None
        return out.run
    return out.jobs[subject.job_id]


def run_diagnosis_run(
    subject: Subject, jobs: tuple[str, ...] | None = None, diag: RunDiagnosis | None = None
) -> RunResults:
    """:func:`run_diagnosis` for the run and every job of it (``jobs``: only these), one pass
    (``diag``: the run's diagnosis, when already made)."""
    from flowsleuth.tools.diagnosis.diagnose import diagnose_run, job_anomaly_score, job_verdict

    diag = diag if diag is not None else diagnose_run(subject)
    run_data = diag.model_dump()
    run_summary = (
        f"run {diag.run_id}: {diag.label} (p {diag.label_confidence:.2f}), "
        f"{len(diag.culprits)} culprit host(s)"
    )
    results: dict[str, ToolResult] = {}
    frame = subject.run.frame
    hosts = dict(zip(frame.index, frame["kickstart_hostname"].to_numpy(), strict=True))
    for job_id in subject.focus_jobs if jobs is None else jobs:
        if job_id not in hosts:
            subject.run.job(job_id)  # raises, naming close matches
        host = str(hosts[job_id])  # as Run.job reads it, without building the whole Job
        label, p_anom, host_conf = job_verdict(diag, host)
        confidence = round(p_anom, 4)
        data: dict[str, Any] = {
            **run_data,
            "job_label": label,
            "job_confidence": confidence,
            "host_confidence": round(host_conf, 4),
            "score": job_anomaly_score(diag, host),
        }
        summary = (
            f"run {diag.run_id}: {diag.label} (p {diag.label_confidence:.2f}); job "
            f"{job_id} on {host}: {label} (p {confidence:.2f})"
        )
        culprit = label != "None"
        finding = Finding(
            about="diagnosis",
            text=f"run diagnosed {diag.label} (p {diag.label_confidence:.2f}); host {host} "
            + (f"is a culprit (p {confidence:.2f})" if culprit else f"is not a culprit (p {confidence:.2f})"),
            numbers=[round(diag.label_confidence, 2), round(confidence, 2)],
            direction="anomalous" if culprit else "normal",
        )
        results[job_id] = ToolResult.ok(DIAGNOSIS_TOOL, data, summary, findings=[finding], job=job_id)
    return RunResults(results, ToolResult.ok(DIAGNOSIS_TOOL, run_data, run_summary, run=diag.run_id))


def run_diagnosis_runs(subjects: Sequence[Subject]) -> list[RunResults]:
    """:func:`run_diagnosis_run` of each subject, the whole runs that share a model and a
    baseline diagnosed as one batch (:func:`~flowsleuth.tools.diagnosis.batch.diagnose_many`)."""
    from flowsleuth.tools.diagnosis.batch import diagnose_many
    from flowsleuth.tools.diagnosis.default import default_model
    from flowsleuth.tools.diagnosis.diagnose import DIAGNOSIS_MODEL
    from flowsleuth.workflows.batch import Batch

    groups: dict[tuple[int, int], list[int]] = {}
    setups = {}
    for i, s in enumerate(subjects):
        if s.job_id is None and len(s.run.frame):
            model = s.services.get(DIAGNOSIS_MODEL) or default_model()
            baseline = s.baseline or model.baseline
            key = (id(model), id(baseline))
            setups[key] = (model, baseline)
            groups.setdefault(key, []).append(i)
    diags: dict[int, RunDiagnosis] = {}
    for key, members in groups.items():
        if len(members) > 1:
            model, baseline = setups[key]
            together = diagnose_many(model, Batch([subjects[i].run for i in members]), baseline)
            diags.update(zip(members, together, strict=True))
    return [run_diagnosis_run(s, diag=diags.get(i)) for i, s in enumerate(subjects)]


def register_tools(register: Any) -> None:
    """The built-in tools, through the same hook a plugin offers."""
    from flowsleuth.tools.classifier import sft_score, sft_score_run, tree_score, tree_score_run
    from flowsleuth.tools.classifier.tool import tree_score_runs
    from flowsleuth.tools.generalist.tool import (
        TOOL,
        generalist_score,
        generalist_score_run,
        generalist_score_runs,
    )

    register(tree_score, name="tree_score", kind="score", batch=tree_score_run, many=tree_score_runs)
    register(
        generalist_score, name=TOOL, kind="score", batch=generalist_score_run, many=generalist_score_runs
    )
    register(sft_score, name="sft_score", kind="score", timeout_s=60.0, batch=sft_score_run)
    for name, fn in HINTS.items():
        register(fn, name=name, kind="hint")
    register(
        run_diagnosis,
        name=DIAGNOSIS_TOOL,
        kind="diagnosis",
        timeout_s=120.0,
        batch=run_diagnosis_run,
        many=run_diagnosis_runs,
    )
    from flowsleuth.tools.job_state import JOB_STATE_TOOL, job_state, job_state_run

    register(job_state, name=JOB_STATE_TOOL, kind="state", batch=job_state_run)
