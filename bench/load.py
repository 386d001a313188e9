"""Foundation benchmark: load every Flow-Bench run and compute its run context.

Usage: .venv/bin/python -m bench.load [--repeat 3] [--smoke]
Writes bench/results/load.{json,md}. --smoke times the bundled sample runs instead (a check that
the bench works, written outside bench/results).
"""

from __future__ import annotations

import argparse
import resource

from flowsleuth.workflows.context import run_context
from flowsleuth.workflows.flowbench import require_root, run_files
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sample import sample_runs

from bench._common import machine, median, results_dir, timed, write_results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3, help="repeats of the single-run timings")
    ap.add_argument("--smoke", action="store_true", help="the bundled sample, not Flow-Bench")
    args = ap.parse_args()
    files = sample_runs() if args.smoke else run_files(root=require_root())
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
    title = "Loading Flow-Bench and computing run context"
    write_results("load", rows, meta, title, out=results_dir(args.smoke))


if __name__ == "__main__":
    main()
