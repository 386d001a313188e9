"""Measure a diagnosis model against labels: run class, job class and culprit hosts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from flowsleuth.tools.diagnosis.diagnose import diagnose_run
from flowsleuth.tools.diagnosis.model import DiagnosisModel
from flowsleuth.tools.diagnosis.schema import RunDiagnosis
from flowsleuth.tools.diagnosis.truth import culprit_hosts
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.models import Run
from pydantic import BaseModel
from sklearn.metrics import accuracy_score, f1_score


class DiagnosisScores(BaseModel):
    runs: int
    jobs: int
    job_kind_macro_f1: float  # normal / cpu / hdd per job
    job_label_macro_f1: float  # None / cpu_K / hdd_K per job
    job_binary_f1: float  # anomalous vs normal per job (the paper's target)
    culprit_precision: float
    culprit_recall: float
    run_kind_accuracy: float
    run_label_accuracy: float
    hdd_culprit_recall: float | None = None
    cpu_culprit_recall: float | None = None


@dataclass
class Truth:
    """What the labels say about one run (never shown to the model)."""

    injected: str
    culprits: set[str]
    job_hosts: Sequence[str]
    job_labels: Sequence[str]

    @classmethod
    def of(cls, run: Run) -> Truth:
        assert run.labels is not None and run.injected is not None
        hosts = run.frame["kickstart_hostname"].fillna("").astype(str).tolist()
        return cls(run.injected, culprit_hosts(run), hosts, run.labels.astype(str).tolist())


def _kind(label: str) -> str:
    return "normal" if label == "None" else label.split("_")[0]


def score(model: DiagnosisModel, runs: Iterable[Run]) -> DiagnosisScores:
    """Score labelled runs; culprit truth = hosts with an anomalous job in that run."""
    pairs = [
        (diagnose_run(Subject(r), model), Truth.of(r))
        for r in runs
        if r.labels is not None and r.injected is not None
    ]
    return score_pairs(pairs)


def score_pairs(pairs: Sequence[tuple[RunDiagnosis, Truth]]) -> DiagnosisScores:
    """Score diagnoses against their truth: a job's predicted label is the run's label when
    its host is a flagged culprit, else None."""
    true_lab: list[str] = []
    pred_lab: list[str] = []
    tp = fp = fn = 0
    by_kind: dict[str, list[int]] = {"cpu": [0, 0], "hdd": [0, 0]}
    for diag, truth in pairs:
        flagged = {c.host for c in diag.culprits}
        tp, fp = tp + len(flagged & truth.culprits), fp + len(flagged - truth.culprits)
        fn += len(truth.culprits - flagged)
        if truth.culprits and _kind(truth.injected) in by_kind:
            k = by_kind[_kind(truth.injected)]
            k[0], k[1] = k[0] + len(flagged & truth.culprits), k[1] + len(truth.culprits)
        hosts = np.asarray(truth.job_hosts)
        true_lab.extend(truth.job_labels)
        pred_lab.extend(np.where(np.isin(hosts, list(flagged)), diag.label, "None").tolist())
    kinds_t, kinds_p = [_kind(x) for x in true_lab], [_kind(x) for x in pred_lab]
    run_t = [t.injected for _, t in pairs]
    run_p = [d.label for d, _ in pairs]
    f1 = lambda t, p: float(f1_score(t, p, average="macro", zero_division=0))  # noqa: E731
    return DiagnosisScores(
        runs=len(pairs),
        jobs=len(true_lab),
        job_kind_macro_f1=f1(kinds_t, kinds_p),
        job_label_macro_f1=f1(true_lab, pred_lab),
        job_binary_f1=float(
            f1_score([k != "normal" for k in kinds_t], [k != "normal" for k in kinds_p], zero_division=0)
        ),
        culprit_precision=tp / max(tp + fp, 1),
        culprit_recall=tp / max(tp + fn, 1),
        run_kind_accuracy=float(accuracy_score([_kind(x) for x in run_t], [_kind(x) for x in run_p])),
        run_label_accuracy=float(accuracy_score(run_t, run_p)),
        hdd_culprit_recall=by_kind["hdd"][0] / by_kind["hdd"][1] if by_kind["hdd"][1] else None,
        cpu_culprit_recall=by_kind["cpu"][0] / by_kind["cpu"][1] if by_kind["cpu"][1] else None,
    )
