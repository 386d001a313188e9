"""Foundation benchmark: load every Flow-Bench run and compute its run context.

Usage: .venv/bin/python bench/load.py [--repeat 3]
Writes bench/results/load.{json,md}.
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, median, timed, write_results
from flowsleuth.workflows.context import run_context
from flowsleuth.workflows.flowbench import require_root, run_files
from flowsleuth.workflows.loader import load_run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3, help="repeats of the single-run timings")
    args = ap.parse_args()
    files = run_files(root=require_root())
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    runs, (t_load,) = timed(lambda: [load_run(f) for f in files])
    _, (t_ctx,) = timed(lambda: [run_context(r) for r in runs])
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    jobs = sum(len(r) for r in runs)

    montage = next(f for f in files if f.stem.startswith("montage"))
    _, t_one_load = timed(lambda: load_run(montage), args.repeat)
    one = load_run(montage)
    _, t_one_ctx = timed(lambda: run_context(one), args.repeat)

    rows = [
        {
            "what": f"load all {len(runs)} runs ({jobs} jobs)",
            "seconds": t_load,
            "jobs_per_s": jobs / t_load,
        },
        {"what": "run context, all runs", "seconds": t_ctx, "jobs_per_s": jobs / t_ctx},
        {
            "what": f"load one {len(one)}-job Montage run (median of {args.repeat})",
            "seconds": median(t_one_load),
            "jobs_per_s": len(one) / median(t_one_load),
        },
        {
            "what": f"run context, one Montage run (median of {args.repeat})",
            "seconds": median(t_one_ctx),
            "jobs_per_s": len(one) / median(t_one_ctx),
        },
    ]
    meta = {
        **machine(),
        "peak_rss_mib": round(peak_mib, 1),
        "rss_before_mib": round(rss0 / 1024, 1),
    }
    write_results("load", rows, meta, "Loading Flow-Bench and computing run context")


if __name__ == "__main__":
    main()
