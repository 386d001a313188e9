"""Triage at facility scale: serial vs ``--workers 2`` vs a 2-worker Dask ``LocalCluster``, over
the same Flow-Bench runs, in one run; plus where a small run's time goes.

Protocol:

* Runs: ``--runs`` (default 200) CSVs from ``/work/shared/flowbench/parsed/*/``, taken round-robin
  over the workflows (1000 Genome, Montage, Predict Future Sales) and anomaly folders, sorted by
  name; linked into one temp folder.
* Each mode runs the real CLI in a fresh process: ``flowsleuth triage DIR -f jsonl --out F
  --explain 0`` (+ ``--workers 2`` or ``--scheduler ADDR``) on a fresh home (the pretrained models
  shipped in the package; no index, no LLM). Wall time includes start-up (imports, model loading,
  spawning workers / registering the worker plugin). ``startup_s``: the same command on one
  12-job run; ``marginal runs/s`` = (runs - 1) / (wall - startup).
* The LocalCluster (2 worker processes, 1 thread each) is started before its timing; its workers'
  model loading is inside the timed command (the plugin is registered by triage).
* Every mode's output is compared with the serial output byte for byte.
* Per-run overhead: in one process with the toolkit loaded, ``triage_run`` on each small run
  (<= 60 jobs) of the set, median seconds per run -> small runs/s on one core; then cProfile of
  ``--profile-repeat`` calls on one 12-job run, top functions by own time.

The box is shared (load average recorded): absolute numbers move with it; the ratios of one run
are what count.

Usage: nice .venv/bin/python -m bench.scale [--runs 200] [--smoke]
Writes bench/results/scale.{json,md} (--smoke: 12 runs, written outside bench/results).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench._common import machine, median, results_dir, write_results

FLOWBENCH = Path("/work/shared/flowbench/parsed")
CLI = "from flowsleuth.cli.main import app; app()"


def pick_runs(n: int) -> list[Path]:
    """``n`` runs round-robin over (workflow, anomaly folder), so every workflow is in the mix."""
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for f in sorted(FLOWBENCH.glob("*/*.csv")):
        groups[(f.name.split("-run")[0], f.parent.name)].append(f)
    queues = [groups[k] for k in sorted(groups)]
    out: list[Path] = []
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def link(runs: list[Path], into: Path) -> Path:
    into.mkdir(parents=True)
    for f in runs:
        (into / f"{f.parent.name}-{f.name}").symlink_to(f)
    return into


def triage(src: Path, out: Path, env: dict[str, str], extra: list[str]) -> float:
    cmd = [sys.executable, "-c", CLI, "triage", str(src), "-f", "jsonl", "--out", str(out), "--explain", "0"]
    t0 = time.perf_counter()
    proc = subprocess.run([*cmd, *extra], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"triage failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall


def profile_small(small: list[Path], repeat: int) -> tuple[float, list[dict[str, Any]], int]:
    """(median s per small run, top own-time functions of ``repeat`` calls on the smallest, its jobs)."""
    from flowsleuth.agent.triage import triage_run
    from flowsleuth.cli.app.settings import load_settings
    from flowsleuth.cli.app.toolkit import load_toolkit
    from flowsleuth.workflows.loader import load_run

    kit = load_toolkit(load_settings(backend="none"), llm=False, sft=False)
    runs = [load_run(f) for f in small]
    for r in runs[:2]:
        triage_run(kit.deps(r))  # warm caches (lazy imports, first-call costs)
    times = []
    for r in runs:
        t0 = time.perf_counter()
        triage_run(kit.deps(r))
        times.append(time.perf_counter() - t0)
    smallest = min(runs, key=len)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat):
        triage_run(kit.deps(smallest))
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (file, line, fn), (_, ncalls, tt, ct, _) in sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda kv: -kv[1][2],
    )[:15]:
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({fn})",
                "calls/run": round(ncalls / repeat, 1),
                "own ms/run": round(1000 * tt / repeat, 2),
                "cum ms/run": round(1000 * ct / repeat, 2),
                "own share": f"{tt / total:.1%}",
            }
        )
    return median(times), rows, len(smallest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--profile-repeat", type=int, default=20)
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    n = 12 if args.smoke else args.runs
    from distributed import LocalCluster

    runs = pick_runs(n)
    jobs = sum(sum(1 for _ in f.open()) - 1 for f in runs)
    work = Path(tempfile.mkdtemp(prefix="flowsleuth-scale-"))
    src = link(runs, work / "runs")
    small_run = min(runs, key=lambda f: f.stat().st_size)
    one = link([small_run], work / "one")
    env = {
        **os.environ,
        "FLOWSLEUTH_HOME": str(work / "home"),
        "FLOWSLEUTH_CONFIG": str(work / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "FLOWSLEUTH_BACKEND": "none",
    }
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    serial_bytes = b""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        modes = {
            "serial": [],
            "--workers 2": ["--workers", "2"],
            "LocalCluster 2 workers": ["--scheduler", cluster.scheduler_address],
        }
        for name, extra in modes.items():
            slug = name.split()[0].strip("-").lower()
            startup = triage(one, work / f"one-{slug}.jsonl", env, extra)
            out = work / f"{slug}.jsonl"
            wall = triage(src, out, env, extra)
            data = out.read_bytes()
            serial_bytes = serial_bytes or data
            rows.append(
                {
                    "mode": name,
                    "runs": len(runs),
                    "jobs": jobs,
                    "wall s": round(wall, 2),
                    "runs/s": round(len(runs) / wall, 2),
                    "jobs/s": round(jobs / wall),
                    "startup s (1 run)": round(startup, 2),
                    "marginal runs/s": round((len(runs) - 1) / max(wall - startup, 1e-9), 2),
                    "same bytes as serial": data == serial_bytes,
                }
            )
    base = rows[0]["wall s"]
    for r in rows:
        r["speed-up vs serial"] = round(base / r["wall s"], 2)
    small = [f for f in runs if sum(1 for _ in f.open()) - 1 <= 60]
    per_run, top, small_jobs = profile_small(small or [small_run], args.profile_repeat)
    meta = {
        "protocol": __doc__.split("Protocol:")[1].split("Usage:")[0].strip(),
        "runs by workflow": {
            w: sum(f.name.startswith(w) for f in runs)
            for w in ("1000-genome", "montage", "predict-future-sales")
        },
        "load average before / after (1, 5, 15 min)": [
            [round(x, 2) for x in load_before],
            [round(x, 2) for x in os.getloadavg()],
        ],
        "small runs (<= 60 jobs) in the set": len(small),
        "in-process triage_run, median s per small run": round(per_run, 4),
        "small runs/s on one core (in-process)": round(1 / per_run, 1),
        "target small runs/s per core": 50,
        "profile": f"scale_profile.md: own time, {args.profile_repeat} x triage_run, {small_jobs}-job run",
        **machine(),
    }
    out_dir = results_dir(args.smoke)
    write_results("scale", rows, meta, "triage at scale: serial vs --workers 2 vs LocalCluster", out_dir)
    write_results(
        "scale_profile",
        top,
        {"what": f"cProfile, {args.profile_repeat} x triage_run on one {small_jobs}-job run, by own time"},
        "where a small run's time goes",
        out_dir,
    )


if __name__ == "__main__":
    main()
