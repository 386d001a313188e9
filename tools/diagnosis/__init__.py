"""Combine the hints into a diagnosis: which anomaly hit a run, which hosts carry it, and
what that means for one job.

``diagnose_run(subject_or_run) -> RunDiagnosis`` and ``diagnose_job(subject) -> JobDiagnosis``;
``DiagnosisModel.fit(train, validation)`` / ``.save(dir)`` / ``.load(dir)``;
``fit_default_diagnosis(out_dir)`` fits the demo model on the bundled sample in seconds.
"""

from __future__ import annotations

from flowsleuth.tools.diagnosis.default import default_model, fit_default_diagnosis
from flowsleuth.tools.diagnosis.diagnose import DIAGNOSIS_MODEL, diagnose_job, diagnose_run, job_anomaly_score
from flowsleuth.tools.diagnosis.model import RUN_CLASSES, DiagnosisModel
from flowsleuth.tools.diagnosis.schema import CulpritHost, JobDiagnosis, RunDiagnosis

__all__ = [
    "DIAGNOSIS_MODEL",
    "RUN_CLASSES",
    "CulpritHost",
    "DiagnosisModel",
    "JobDiagnosis",
    "RunDiagnosis",
    "default_model",
    "diagnose_job",
    "diagnose_run",
    "fit_default_diagnosis",
    "job_anomaly_score",
]
