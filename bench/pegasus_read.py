"""Read speed of the Pegasus reader: each real fixture, and a synthetic stampede DB.

Usage: .venv/bin/python -m bench.pegasus_read [--jobs 100000] [--repeat 3] [--baseline REV] [--stages]
Writes bench/results/pegasus_read.{json,md}. Target (issue #12): >= 50,000 jobs/s on the
synthetic DB. The synthetic DB is written the way monitord writes one (workflows/pegasus/writer.py):
one workflow, JOBS jobs in layers of 1,000 with two parents each, 7 job states per job, one task
invocation and one post-script invocation per job. Times are wall seconds, medians of --repeat.

The synthetic DB is read in a fresh process per try (as the CLI reads it: once per process), the
import outside the clock. With ``--baseline REV`` the reader of git revision REV (its
``workflows/`` extracted to a temp dir, put first on ``sys.path``) is timed in the same run,
alternating with the current one, so the ratio is measured under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.pegasus import fastsqlite as fs
from flowsleuth.workflows.pegasus import iter_pegasus_runs
from flowsleuth.workflows.pegasus import stampede as st
from flowsleuth.workflows.pegasus.writer import write_stampede
from flowsleuth.workflows.schema import INDEX_COLUMN, NUMERIC_COLUMNS, TEXT_COLUMNS

from bench._common import machine, median, results_dir, timed, write_results

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pegasus"
LAYER = 1000
ROOT = Path(__file__).resolve().parent.parent
_PROBE = """
import json, sys, time
sys.path[:0] = {path!r}
from flowsleuth.workflows.pegasus import iter_pegasus_runs
t0, c0 = time.perf_counter(), time.process_time()
runs = list(iter_pegasus_runs({db!r}))
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({{"seconds": wall, "cpu_seconds": cpu, "jobs": sum(len(r) for r in runs)}}))
"""


def probe(db: Path, base: Path | None) -> tuple[float, float, int]:
    """(wall s, CPU s, jobs) of one read in a fresh process; ``base``: an older tree first on the path.
    CPU seconds are the process's own: on a loaded box they stay close to the wall time of a quiet one."""
    code = _PROBE.format(path=[str(base)] if base else [], db=str(db))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=900, cwd=ROOT
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return float(got["seconds"]), float(got["cpu_seconds"]), int(got["jobs"])


def extract(rev: str, into: Path) -> Path:
    """``workflows/`` of git revision ``rev`` as ``into/flowsleuth/workflows`` (importable first)."""
    dst = into / "flowsleuth"
    dst.mkdir(parents=True)
    tar = subprocess.run(["git", "archive", rev, "workflows"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dst)], input=tar.stdout, check=True)
    return into


def _clock(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def stages(db: Path) -> list[dict[str, Any]]:
    """Where one read's time goes, in this process, serially (the reader runs the jobstate part on a
    second connection in a thread; here each step is timed alone): per query, SQLite running it
    into Arrow buffers (ADBC), then the numpy/pandas conversion; then everything after the frames
    (joins, derivation, Run assembly)."""
    rows: list[dict[str, Any]] = []

    def add(stage: str, wall: float, cpu: float) -> None:
        rows.append({"input": f"stage: {stage}", "reader": "current", "seconds": wall, "cpu_seconds": cpu})

    queries = st._queries()
    frames: dict[str, pd.DataFrame] = {}
    reader = fs.Reader(db)
    try:
        got: dict[str, list[Any]] = {}
        for n, q in queries.items():
            got[n], w, c = _clock(lambda q=q: reader.batches(q))
            add(f"{n}: SQL into Arrow ({sum(b.length for b in got[n])} rows)", w, c)
            if n in ("jobs", "edges"):
                continue
            frames[n], w, c = _clock(lambda q=q, n=n: fs._frame(q, got[n]))
            add(f"{n}: frame", w, c)
        (frames["jobs"], frames["edges"]), w, c = _clock(
            lambda: fs.jobs_and_edges(queries["jobs"], got["jobs"], queries["edges"], got["edges"])
        )
        add("jobs frame + edges matched to job ids on their bytes", w, c)
        raw, w, c = _clock(reader.raw_states)
        add(f"jobstate: SQL into Arrow ({len(raw['jid'])} rows)", w, c)
        frames["times"], w, c = _clock(lambda: fs.pivot(raw))
        add("jobstate: numpy pivot", w, c)
    finally:
        reader.close()
    with mock.patch.object(st, "_read_frames", lambda engine, name: {k: v.copy() for k, v in frames.items()}):
        _, w, c = _clock(lambda: list(iter_pegasus_runs(db)))
    add("after the frames: joins, derivation, Run", w, c)
    return rows


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
    ap.add_argument("--baseline", help="git revision whose reader is timed alongside (e.g. main)")
    ap.add_argument("--smoke", action="store_true", help="2,000 jobs, one repeat: a check that it runs")
    ap.add_argument("--stages", action="store_true", help="also time each stage of one read (a profile)")
    args = ap.parse_args()
    load_start = os.getloadavg()[0]
    if args.smoke:
        args.jobs, args.repeat = 2000, 1
    rows = []
    for d in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        runs, times = timed(lambda d=d: list(iter_pegasus_runs(d)), args.repeat)
        n = sum(len(r) for r in runs)
        rows.append(
            {
                "input": f"submit dir {d.name}",
                "reader": "current",
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
        base = extract(args.baseline, Path(tmp) / "baseline") if args.baseline else None
        names = ["current"] if base is None else [args.baseline, "current"]
        arms: dict[str, list[float]] = {a: [] for a in names}
        cpus: dict[str, list[float]] = {a: [] for a in names}
        for _ in range(args.repeat):  # alternate the arms: both see the same load
            for arm in names:
                seconds, cpu, n = probe(db, base if arm != "current" else None)
                assert n == args.jobs, (arm, n)
                arms[arm].append(seconds)
                cpus[arm].append(cpu)
        back = next(iter(iter_pegasus_runs(db)))
        assert len(back) == args.jobs and back.frame["runtime"].notna().all()
        for arm, times in arms.items():
            rows.append(
                {
                    "input": f"synthetic stampede DB ({size_mib:.0f} MiB)",
                    "reader": "current" if arm == "current" else f"baseline {arm}",
                    "workflows": 1,
                    "jobs": args.jobs,
                    "seconds": median(times),
                    "jobs_per_s": args.jobs / median(times),
                    "cpu_seconds": median(cpus[arm]),
                    "jobs_per_cpu_s": args.jobs / median(cpus[arm]),
                    "all_seconds": [round(x, 2) for x in times],
                }
            )
        if base is not None:
            rows[-1]["wall_speedup"] = round(median(arms[args.baseline]) / median(arms["current"]), 2)
            rows[-1]["cpu_speedup"] = round(median(cpus[args.baseline]) / median(cpus["current"]), 2)
        if args.stages:
            rows += stages(db)
    meta = {
        **machine(),
        "repeat": args.repeat,
        "synthetic_write_s": round(t_write, 1),
        "target_jobs_per_s": 50_000,
        "note": "fixtures include kickstart YAML parsing; the synthetic DB has no submit dir",
    }
    # a shared 2-core box: the load is the context of every time here
    meta["load_average_1m"] = f"{load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    write_results("pegasus_read", rows, meta, "Pegasus reader: read speed", out=results_dir(args.smoke))


if __name__ == "__main__":
    main()
