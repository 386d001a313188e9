"""Read speed of the Pegasus reader: each real fixture, and a synthetic stampede DB.

Usage: .venv/bin/python -m bench.pegasus_read [--jobs 100000] [--repeat 3]
Writes bench/results/pegasus_read.{json,md}. Target (issue #12): >= 50,000 jobs/s on the
synthetic DB. The synthetic DB is written the way monitord writes one (workflows/pegasus/writer.py):
one workflow, JOBS jobs in layers of 1,000 with two parents each, ~9 job states per job, one task
invocation and one post-script invocation per job. Times are wall seconds, medians of --repeat.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.pegasus import iter_pegasus_runs
from flowsleuth.workflows.pegasus.writer import write_stampede
from flowsleuth.workflows.schema import INDEX_COLUMN, NUMERIC_COLUMNS, TEXT_COLUMNS

from bench._common import machine, median, results_dir, timed, write_results

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pegasus"
LAYER = 1000


def synthetic_run(n: int, seed: int = 0) -> tuple[Run, list[tuple[str, str]]]:
    rng = np.random.default_rng(seed)
    ids = [f"job_ID{i:07d}" for i in range(n)]
    layer = np.arange(n) // LAYER
    t0 = 1.7e9
    f = pd.DataFrame(index=pd.Index(ids, name=INDEX_COLUMN))
    for c in NUMERIC_COLUMNS:
        f[c] = np.nan
    ready = t0 + layer * 100.0
    f["ready"] = ready
    f["submit"] = ready + rng.integers(1, 6, n)
    f["execute_start"] = f["submit"] + rng.integers(0, 30, n)
    f["execute_end"] = f["execute_start"] + rng.integers(5, 60, n)
    f["post_script_start"] = f["execute_end"]
    f["post_script_end"] = f["execute_end"] + 5
    f["kickstart_executables_cpu_time"] = rng.random(n) * 50
    for c in TEXT_COLUMNS:
        f[c] = ""
    f["type"] = "compute"
    f["kickstart_hostname"] = [f"worker{i % 24}" for i in range(n)]
    f["kickstart_transformations"] = [f"xform{i % 7}" for i in range(n)]
    edges = [(ids[i - LAYER + (i * 7) % LAYER], ids[i]) for i in range(LAYER, n)]
    edges += [(ids[i - LAYER + (i * 13 + 1) % LAYER], ids[i]) for i in range(LAYER, n)]
    return Run("synthetic", "synthetic-0000", "synthetic", f), sorted(set(edges))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="2,000 jobs, one repeat: a check that it runs")
    args = ap.parse_args()
    if args.smoke:
        args.jobs, args.repeat = 2000, 1
    rows = []
    for d in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        runs, times = timed(lambda d=d: list(iter_pegasus_runs(d)), args.repeat)
        n = sum(len(r) for r in runs)
        rows.append(
            {
                "input": f"submit dir {d.name}",
                "workflows": len(runs),
                "jobs": n,
                "seconds": median(times),
                "jobs_per_s": n / median(times),
            }
        )
    run, edges = synthetic_run(args.jobs)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "synthetic.stampede.db"
        _, (t_write,) = timed(lambda: write_stampede(db, [run], {run.run_id: edges}))
        size_mib = db.stat().st_size / 2**20
        back, times = timed(lambda: list(iter_pegasus_runs(db)), args.repeat)
        n = len(back[0])
        assert n == args.jobs and back[0].frame["runtime"].notna().all()
        rows.append(
            {
                "input": f"synthetic stampede DB ({size_mib:.0f} MiB)",
                "workflows": 1,
                "jobs": n,
                "seconds": median(times),
                "jobs_per_s": n / median(times),
            }
        )
    meta = {
        **machine(),
        "repeat": args.repeat,
        "synthetic_write_s": round(t_write, 1),
        "target_jobs_per_s": 50_000,
        "note": "fixtures include kickstart YAML parsing; the synthetic DB has no submit dir",
    }
    meta["load_average_1m"] = round(os.getloadavg()[0], 1)  # a shared 2-core box: context for the times
    write_results("pegasus_read", rows, meta, "Pegasus reader: read speed", out=results_dir(args.smoke))


if __name__ == "__main__":
    main()
