"""Benchmark the diagnosis: run class, job class and culprit hosts on unseen runs, and the time
to compute every hint for a 539-job Montage run.

Split by whole runs (workflows.splits.split_of_runs, seed 42, 60/20/20 stratified by workflow and
injected anomaly): the models are fitted on train runs (the normal baseline on train's normal runs),
calibrated on validation runs, and every number below is on test runs. One model for all three
workflows; "no baseline" rows score the same test runs as if their workflow were unknown.

The paper's split assigns single jobs, not runs: a run-level model fitted on any run has seen the
runs of the paper's test jobs, so it is not reported here (the job-level classifiers report it).

    .venv/bin/python -m bench.diagnosis [--save DIR] [--hint-repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from flowsleuth.tools.diagnosis.diagnose import diagnose_run
from flowsleuth.tools.diagnosis.evaluate import Truth, score_pairs
from flowsleuth.tools.diagnosis.model import DiagnosisModel
from flowsleuth.tools.registry import Registry, default_registry
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.flowbench import run_files
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_run
from flowsleuth.workflows.splits import split_of_runs

from bench._common import machine, median, timed, write_results

WORKFLOWS = ("1000-genome", "montage", "predict-future-sales")
MONTAGE_RUN = "montage-run0747"  # bundled, 539 jobs, hdd_5


def all_hints(registry: Registry, run: Run) -> int:
    subject = Subject(run)
    _ = subject.context, subject.hosts  # computed once; for_job shares computed caches only
    n = 0
    for job_id in run.job_ids:
        n += len(registry.run_all(subject.for_job(job_id), kinds=("hint",)))
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="save the fitted model to this directory")
    parser.add_argument("--hint-repeats", type=int, default=3)
    parser.add_argument("--hints-only", action="store_true", help="only time the hints")
    args = parser.parse_args()
    if args.hints_only:
        time_hints(args.hint_repeats)
        return

    t0 = time.perf_counter()
    runs = [load_run(p) for wf in WORKFLOWS for p in run_files(wf)]
    load_s = time.perf_counter() - t0
    split = split_of_runs(runs)
    part = {s: [r for r in runs if split[r.run_id] == s] for s in ("train", "validation", "test")}
    model, fit_times = timed(lambda: DiagnosisModel.fit(part["train"], part["validation"]))
    if args.save:
        model.save(args.save)

    rows = []
    confusion: dict[str, dict[str, int]] = {}
    for wf in WORKFLOWS:
        test = [r for r in part["test"] if r.workflow == wf]
        for mode in ("baseline", "no baseline"):
            saved = model.baseline
            if mode == "no baseline":
                model.baseline = BaselineProfile()
            pairs = [(diagnose_run(Subject(r), model), Truth.of(r)) for r in test]
            model.baseline = saved
            s = score_pairs(pairs)
            if mode == "baseline":
                confusion[wf] = dict(Counter(f"{t.injected}->{d.label}" for d, t in pairs))
            rows.append(
                {
                    "workflow": wf,
                    "mode": mode,
                    "test runs": s.runs,
                    "job kind macro-F1": s.job_kind_macro_f1,
                    "job label macro-F1": s.job_label_macro_f1,
                    "job binary F1": s.job_binary_f1,
                    "culprit P": s.culprit_precision,
                    "culprit R": s.culprit_recall,
                    "cpu culprit R": s.cpu_culprit_recall,
                    "hdd culprit R": s.hdd_culprit_recall,
                    "run kind acc": s.run_kind_accuracy,
                    "run label acc": s.run_label_accuracy,
                }
            )

    meta = {
        **machine(),
        "split": "by whole runs, seed 42, 60/20/20 (train/validation/test)",
        "runs": {k: len(v) for k, v in part.items()},
        "load_s": round(load_s, 1),
        "fit_s": round(fit_times[0], 1),
        "threshold": round(model.artifact.threshold, 4),
        "hint_timing": "see diagnosis_hints.md",
        "run_confusion_test (injected->predicted)": confusion,
        "paper_split": "not applicable: it assigns jobs, not runs (see module docstring)",
    }
    write_results("diagnosis", rows, meta, "Diagnosis on unseen runs (split by whole runs)")
    time_hints(args.hint_repeats)


def time_hints(repeats: int) -> None:
    registry = default_registry(entry_points=False)
    montage = load_run(sample_run(MONTAGE_RUN))
    n_results, times = timed(lambda: all_hints(registry, montage), repeat=repeats)
    row = {
        "run": MONTAGE_RUN,
        "jobs": len(montage),
        "hint results": n_results,
        "median s": round(median(times), 2),
        "ms per job": round(1000 * median(times) / len(montage), 1),
    }
    meta = {**machine(), "runs_s": [round(t, 2) for t in times], "tools": "4 built-in hints"}
    write_results("diagnosis_hints", [row], meta, "All hints for one 539-job Montage run")


if __name__ == "__main__":
    main()
