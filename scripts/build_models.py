"""Release build of the models shipped in tools/pretrained/, with their provenance, measured on
held-out test runs.

Protocol: bench/fusion.py's pipeline (split by whole runs 60/20/20, stratified, seed 42) on
Flow-Bench with every run bundled in workflows/sample/runs left out before splitting. The tree
scorer (multi-class, context features), the diagnosis model and the baseline profile are fitted
on TRAIN runs (the tree early-stops and calibrates on VALIDATION runs; the diagnosis calibrates
its culprit threshold there); the per-workflow fusion is fitted on VALIDATION jobs. Every metric
written here is on TEST runs, which nothing was fitted or tuned on.

Usage (from the repository root; needs the Flow-Bench checkout):
    make models      # = FLOWSLEUTH_THREADS=1 nice -n 5 .venv/bin/python -m scripts.build_models
    .venv/bin/python -m scripts.build_models --smoke --out /tmp/models-smoke
Writes OUT/{models/,provenance.json} (OUT defaults to tools/pretrained) and the test metrics to
bench/results/pretrained.{json,md}; --smoke builds from a few runs per workflow and writes
everything under OUT, which it requires, so it never replaces the shipped models.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from flowsleuth.tools.diagnosis.evaluate import score as score_diagnosis
from flowsleuth.tools.pretrained import PRETRAINED_DIR
from flowsleuth.workflows.sample import sample_runs

from bench._common import command, results_dir, write_results
from bench.fusion import arguments, run_pipeline, save_models

# per workflow, before the 60/20/20 split; so few can leave a workflow without test runs
# (its rows are then left out), which is fine for a check that the build works
SMOKE_RUNS = 10


def _size_kib(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024, 1)


def _round(v: object) -> object:
    return round(v, 3) if isinstance(v, float) else v


def build(args: argparse.Namespace) -> dict[str, Any]:
    """Fit everything and write OUT/models and OUT/provenance.json; return the metadata and the
    test-run rows."""
    t0 = time.perf_counter()
    bundled = {p.stem for p in sample_runs()}
    out = run_pipeline(args, exclude=bundled)
    kit, part = out["kit"], out["part"]
    diag = {
        wf: score_diagnosis(kit.diagnosis, [r for r in part["test"] if r.workflow == wf]).model_dump()
        for wf in sorted({r.workflow for r in part["test"]})
    }
    diag["all"] = score_diagnosis(kit.diagnosis, part["test"]).model_dump()
    models = args.out / "models"
    if models.exists():
        shutil.rmtree(models)
    save_models(kit, out["fusion"], models)
    meta = {
        "command": command(),
        **out["meta"],
        "excluded_bundled_runs": sorted(bundled),
        "size_kib": _size_kib(models),
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
    (args.out / "provenance.json").write_text(json.dumps(provenance, indent=1))
    return {"meta": meta, "rows": out["rows"]}


def main() -> None:
    ap = arguments(__doc__)
    ap.prog = "python -m scripts.build_models"
    ap.set_defaults(no_knn=True)  # a user's home may have no index; the shipped fusion must not need one
    ap.add_argument("--out", type=Path, default=None, help="where to write (default tools/pretrained)")
    ap.add_argument("--smoke", action="store_true", help=f"{SMOKE_RUNS} runs per workflow, under --out")
    args = ap.parse_args()
    if args.smoke:
        if args.out is None or args.out.resolve() == PRETRAINED_DIR:
            ap.error("--smoke needs an --out other than tools/pretrained")
        args.max_runs = args.max_runs or SMOKE_RUNS
    args.out = args.out or PRETRAINED_DIR
    args.out.mkdir(parents=True, exist_ok=True)
    res = build(args)
    # a smoke build measures nothing worth keeping: its table stays beside its models
    results = args.out if args.smoke else results_dir()
    title = "Shipped models on held-out test runs (split by runs)"
    write_results("pretrained", res["rows"], res["meta"], title, out=results)
    print(f"models in {args.out / 'models'}, test metrics in {results}")


if __name__ == "__main__":
    main()
