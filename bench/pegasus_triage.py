"""``flowsleuth triage`` end to end on real Pegasus input: each bundled submit directory, and a
synthetic stampede DB file.

Usage: .venv/bin/python -m bench.pegasus_triage [--jobs 5000] [--repeat 1]
Writes bench/results/pegasus_triage.{json,md}. Each row is one ``flowsleuth triage SOURCE
--format json --explain 0`` in a fresh process, as a user runs it: start-up (imports, loading the
shipped pretrained models), reading, scoring every job, writing the JSON. The home is empty (the
shipped models, no index, no LLM). Times are wall seconds, medians of --repeat; jobs/s counts
every job the run holds (never-submitted ones too). The synthetic DB is bench.pegasus_read's
(layers of 1,000 jobs, two parents each), written by workflows/pegasus/writer.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flowsleuth.workflows.pegasus.writer import write_stampede

from bench._common import machine, median, results_dir, write_results
from bench.pegasus_read import FIXTURES, ROOT, synthetic_run

_CLI = "from flowsleuth.cli.main import app; app()"


def triage(source: Path, home: Path) -> tuple[float, int, int]:
    """(wall seconds, jobs, anomalous jobs) of one ``flowsleuth triage`` process."""
    env = {
        **os.environ,
        "FLOWSLEUTH_HOME": str(home),
        "FLOWSLEUTH_CONFIG": str(home / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "FLOWSLEUTH_BACKEND": "none",
    }
    cmd = [sys.executable, "-c", _CLI, "triage", str(source), "--format", "json", "--explain", "0"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"triage {source} failed: {out.stderr.strip().splitlines()[-1:]}")
    runs = json.loads(out.stdout)
    rows = [r for run in runs for r in run["rows"]]
    return wall, len(rows), sum(bool(r["is_anomalous"]) for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=5000, help="jobs in the synthetic stampede DB")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--smoke", action="store_true", help="200 synthetic jobs, one fixture: a check that it runs"
    )
    args = ap.parse_args()
    if args.smoke:
        args.jobs, args.repeat = 200, 1
    load_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        fixtures = sorted(p for p in FIXTURES.iterdir() if p.is_dir())
        run, edges = synthetic_run(args.jobs)
        db = Path(tmp) / "synthetic.stampede.db"
        write_stampede(db, [run], {run.run_id: edges})
        inputs = [(f"submit dir {d.name}", d) for d in fixtures[: 1 if args.smoke else None]]
        inputs.append((f"synthetic stampede DB file ({args.jobs} jobs)", db))
        for label, source in inputs:
            walls, n, flagged = [], 0, 0
            for _ in range(args.repeat):
                wall, n, flagged = triage(source, home)
                walls.append(wall)
            rows.append(
                {
                    "input": label,
                    "jobs": n,
                    "flagged": flagged,
                    "wall_s": median(walls),
                    "jobs_per_s": n / median(walls),
                }
            )
    meta = {
        **machine(),
        "repeat": args.repeat,
        "what": "one `flowsleuth triage SOURCE --format json --explain 0` process per row, start-up included",
        "home": "empty: the shipped pretrained models, no index, no LLM",
        "flagged": "jobs triage marks anomalous; the synthetic jobs are not realistic (no kickstart "
        "usage, uniform timings), so its count there is no quality measure",
        "load_average_1m": f"{load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end",
    }
    write_results("pegasus_triage", rows, meta, "Pegasus: triage end to end", out=results_dir(args.smoke))


if __name__ == "__main__":
    main()
