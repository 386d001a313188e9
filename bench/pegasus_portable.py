"""Models for what a real Pegasus run carries: full vs portable vs portable+usage features.

Protocol: Flow-Bench runs (every run bundled in workflows/sample/runs left out), split by whole
runs 60/20/20 stratified by (workflow, injected anomaly), seed 42 (workflows.splits.run_split).
For each variant (tools/classifier/portable.py) the tree scorer (multi-class, context features)
trains on TRAIN runs, early-stops and calibrates its threshold on VALIDATION runs, and is measured
on TEST runs only: job-level F1 (anomalous vs normal) per workflow at the calibrated threshold.
``--max-runs N`` caps the runs per workflow before splitting (a CPU-budget choice, recorded).
With --save, the portable and portable+usage models go to tools/pretrained/portable/<variant>/.

Usage: FLOWSLEUTH_THREADS=1 nice .venv/bin/python -m bench.pegasus_portable --max-runs 45 --save
Writes bench/results/pegasus_portable.{json,md} (and tools/pretrained/portable/ with --save).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from flowsleuth.tools.classifier.metrics import binary_metrics
from flowsleuth.tools.classifier.portable import VARIANTS, feature_view
from flowsleuth.tools.classifier.tree import TreeScorer
from flowsleuth.workflows.flowbench import require_root, run_files
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sample import sample_runs
from flowsleuth.workflows.splits import split_of_runs

from bench._common import command, machine, write_results

OUT = Path(__file__).resolve().parent.parent / "tools" / "pretrained" / "portable"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-runs", type=int, default=90, help="runs per workflow (before the split)")
    ap.add_argument("--max-train", type=int, default=60000, help="train rows cap per variant")
    ap.add_argument("--save", action="store_true", help="write the portable models to tools/pretrained")
    args = ap.parse_args()
    bundled = {p.stem for p in sample_runs()}
    files: dict[str, list[Path]] = {}
    for f in run_files(root=require_root()):
        if f.stem not in bundled:
            files.setdefault(f.stem.rsplit("-run", 1)[0], []).append(f)
    rng = np.random.default_rng(42)
    picked = [
        f
        for wf in sorted(files)
        for f in sorted(rng.choice(files[wf], min(args.max_runs, len(files[wf])), replace=False))
    ]
    runs = [load_run(f) for f in picked]
    split = split_of_runs(runs)
    part = {s: [r for r in runs if split[r.run_id] == s] for s in ("train", "validation", "test")}
    rows, saved = [], {}
    for variant in VARIANTS:
        view = {s: [feature_view(r, variant) for r in rs] for s, rs in part.items()}
        t0 = time.perf_counter()
        tree = TreeScorer.fit(
            view["train"],
            view["validation"],
            max_train=args.max_train,
            name=f"tree-{variant.replace('+', '-')}",
        )
        fit_s = time.perf_counter() - t0
        thr = tree.meta.calibration.threshold
        for wf in sorted({r.workflow for r in view["test"]}):
            test = [r for r in view["test"] if r.workflow == wf]
            scores = tree.score_runs(test)
            y = np.concatenate([(r.labels != "None").to_numpy() for r in test]).astype(int)  # type: ignore[union-attr]
            m = binary_metrics(y, scores["score"].to_numpy(float), thr)
            rows.append(
                {
                    "variant": variant,
                    "workflow": wf,
                    "test_runs": len(test),
                    "jobs": len(y),
                    "f1": m["f1"],
                    "precision": m["precision"],
                    "recall": m["recall"],
                    "auc": m["roc_auc"],
                    "fit_s": round(fit_s, 1),
                }
            )
        saved[variant] = tree
    meta = {
        **machine(),
        "command": command(),
        "runs": {s: len(rs) for s, rs in part.items()},
        "max_runs_per_workflow": args.max_runs,
        "max_train_rows": args.max_train,
        "protocol": "split by whole runs 60/20/20 (seed 42), threshold calibrated on validation, "
        "F1 on test runs only",
    }
    if args.save:
        if OUT.exists():
            shutil.rmtree(OUT)
        for variant in ("portable", "portable+usage"):
            saved[variant].save(OUT / variant.replace("+", "_"))
        (OUT / "provenance.json").write_text(
            json.dumps(
                {**meta, "test_rows": rows, "test_runs": sorted(r.run_id for r in part["test"])}, indent=1
            )
        )
    write_results("pegasus_portable", rows, meta, "Tree F1 per workflow by feature variant (test runs)")


if __name__ == "__main__":
    main()
