"""Build the models shipped in tools/pretrained/ and measure them on held-out test runs.

Protocol: bench/fusion.py's pipeline (split by whole runs 60/20/20, stratified, seed 42) on
Flow-Bench with every run bundled in workflows/sample/runs left out before splitting. The tree
scorer (multi-class, context features), the diagnosis model and the baseline profile are fitted
on TRAIN runs (the tree early-stops and calibrates on VALIDATION runs; the diagnosis calibrates
its culprit threshold there); the per-workflow fusion is fitted on VALIDATION jobs. Every metric
written here is on TEST runs, which nothing was fitted or tuned on.

Usage: FLOWSLEUTH_THREADS=1 nice -n 5 .venv/bin/python bench/pretrained.py [--max-runs N]
Writes tools/pretrained/{models/,provenance.json} and bench/results/pretrained.{json,md}.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import write_results
from flowsleuth.tools.diagnosis.evaluate import score as score_diagnosis
from flowsleuth.tools.pretrained import MODELS_DIR, PROVENANCE_FILE
from flowsleuth.workflows.sample import sample_runs
from fusion import arguments, run_pipeline, save_models


def _size_kib(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024, 1)


def main() -> None:
    ap = arguments(__doc__)
    ap.set_defaults(no_knn=True)  # a user's home may have no index; the shipped fusion must not need one
    args = ap.parse_args()
    t0 = time.perf_counter()
    bundled = {p.stem for p in sample_runs()}
    out = run_pipeline(args, exclude=bundled)
    kit, part = out["kit"], out["part"]
    diag = {
        wf: score_diagnosis(kit.diagnosis, [r for r in part["test"] if r.workflow == wf]).model_dump()
        for wf in sorted({r.workflow for r in part["test"]})
    }
    diag["all"] = score_diagnosis(kit.diagnosis, part["test"]).model_dump()
    if MODELS_DIR.exists():
        shutil.rmtree(MODELS_DIR)
    save_models(kit, out["fusion"], MODELS_DIR)
    cmd = "bench/pretrained.py " + " ".join(sys.argv[1:])
    meta = {
        "command": cmd,
        **out["meta"],
        "excluded_bundled_runs": sorted(bundled),
        "size_kib": _size_kib(MODELS_DIR),
        "build_seconds": round(time.perf_counter() - t0, 1),
        "diagnosis_test": {wf: {k: _round(v) for k, v in d.items()} for wf, d in diag.items()},
    }
    provenance = {
        **meta,
        "train_runs": sorted(r.run_id for r in part["train"]),
        "validation_runs": sorted(r.run_id for r in part["validation"]),
        "test_runs": sorted(r.run_id for r in part["test"]),
        "job_test_rows": out["rows"],
    }
    PROVENANCE_FILE.write_text(json.dumps(provenance, indent=1))
    write_results("pretrained", out["rows"], meta, "Shipped models on held-out test runs (split by runs)")


def _round(v: object) -> object:
    return round(v, 3) if isinstance(v, float) else v


if __name__ == "__main__":
    main()
