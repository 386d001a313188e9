"""Triage at facility scale: serial vs ``--workers 2`` vs a 2-worker Dask ``LocalCluster``, over
the same Flow-Bench runs, in one run; plus the per-run overhead of small runs, before and after
a change, and where it goes.

Protocol:

* Runs: ``--runs`` (default 200) CSVs from ``/work/shared/flowbench/parsed/*/``, taken round-robin
  over the workflows (1000 Genome, Montage, Predict Future Sales) and anomaly folders, sorted by
  name; linked into one temp folder.
* Each mode runs the real CLI in a fresh process: ``flowsleuth triage DIR -f jsonl --out F
  --explain 0`` (+ ``--workers 2`` or ``--scheduler ADDR``) on a fresh home (the pretrained models
  shipped in the package; no index, no LLM). Wall time includes start-up (imports, model loading,
  spawning workers / registering the worker plugin). ``startup_s``: the same command on one
  small run; ``marginal runs/s`` = (runs - 1) / (wall - startup).
* The LocalCluster (2 worker processes, 1 thread each) is started before its timing, a fresh one
  for each command (no warm worker); its workers' imports and model loading are inside the
  timed command (the plugin is registered by triage).
* Every mode's output is compared with the serial output byte for byte.
* Per-run overhead (``bench/scale_overhead.py``, in a fresh process pinned to one core): small
  runs from the Flow-Bench extra zips (eht_imaging: 12 jobs, somospie: 60), read and scored
  in-process with the toolkit loaded once; wall and CPU medians. With ``--before REF`` the same
  script also runs against the code of git ref REF (a temporary worktree put first on
  PYTHONPATH), alternating before / after for ``--rounds`` rounds; medians over rounds. On code
  that scores batches of runs (``Toolkit.deps_many``, what triage does with consecutive small
  runs), ``--batch`` (default 64) further runs of each set are read one by one and scored as one
  batch: the ``batch ...`` columns (the batch's totals over its runs). A cProfile of the scoring
  (tool threads inline; one batch where the code batches) goes to ``scale_profile.md``.
* With ``--before REF`` the modes table also gets the serial command on the code of REF (last,
  same runs, bytes compared with the serial output).

The box is shared (load averages recorded): absolute numbers move with it; the ratios of one run
are what count.

* Many small runs end to end (``bench/scale_small.py``): the CLI on ``--small-runs`` 12-job
  runs, serial and ``--workers 2``, per code tree: marginal runs/s and CPU per run.

Usage: nice .venv/bin/python -m bench.scale [--runs 200] [--before REF] [--only overhead|modes|small]
[--smoke]
Writes bench/results/scale.{json,md}, scale_overhead.{json,md}, scale_profile.{json,md} and
scale_small.{json,md} (--smoke: a few runs, written outside bench/results).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._common import machine, results_dir, write_results

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


def triage(src: Path, out: Path, env: dict[str, str], extra: list[str], limit_s: float) -> float:
    cmd = [sys.executable, "-c", CLI, "triage", str(src), "-f", "jsonl", "--out", str(out), "--explain", "0"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [*cmd, *extra], env=env, capture_output=True, text=True, check=False, timeout=limit_s
        )
    except subprocess.TimeoutExpired:
        mode = " ".join(extra) or "serial"
        raise SystemExit(f"triage {mode} ran past {limit_s:g} s: use fewer --runs") from None
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"triage failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def shadow_tree(ref: str, work: Path) -> tuple[Path, Path]:
    """A worktree of ``ref`` and a folder that makes ``flowsleuth.*`` import from it when put
    first on PYTHONPATH (ahead of this checkout's editable install)."""
    work.mkdir(parents=True, exist_ok=True)
    repo = Path(__file__).resolve().parent.parent
    tree = work / "before-tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tree), ref], cwd=repo, check=True, capture_output=True
    )
    pkg = work / "before-path" / "flowsleuth"
    pkg.mkdir(parents=True)
    for name in ("workflows", "tools", "agent", "retrieval", "cli"):
        (pkg / name).symlink_to(tree / name)
    return pkg.parent, tree


def overhead(args: argparse.Namespace, work: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Small-run overhead rows (per tree and set) and the profiles, alternating trees."""
    trees: dict[str, dict[str, str]] = {"after (this checkout)": {}}
    shadow = None
    if args.before:
        path, shadow = shadow_tree(args.before, work)
        trees = {f"before ({args.before})": {"PYTHONPATH": str(path)}, **trees}
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    try:
        for rnd in range(args.rounds):
            for label, extra_env in trees.items():
                out = work / f"overhead-{len(results[label])}-{label.split()[0]}.json"
                cmd = [sys.executable, "-m", "bench.scale_overhead", "--runs", str(args.overhead_runs)]
                cmd += ["--batch", str(args.batch)]
                cmd += ["--json", str(out)]
                if rnd == args.rounds - 1:
                    cmd += ["--profile", str(args.profile)]
                env = {**os.environ, **extra_env, "OMP_NUM_THREADS": "1"}
                print(f"overhead round {rnd + 1}: {label} (load {load()})", flush=True)
                subprocess.run(
                    cmd, env=env, check=True, timeout=args.limit_s, cwd=Path(__file__).parent.parent
                )
                results[label].append({**json.loads(out.read_text()), "load": load()})
    finally:
        if shadow is not None:
            repo = Path(__file__).resolve().parent.parent
            subprocess.run(["git", "worktree", "remove", "--force", str(shadow)], cwd=repo, check=False)
    rows: list[dict[str, Any]] = []
    profiles: dict[str, Any] = {}
    for label, rounds in results.items():
        profiles[label] = rounds[-1].get("profile", {})
        for name in rounds[0]["sets"]:
            per = [r["sets"][name] for r in rounds]
            med = {k: statistics.median(p[k] for p in per) for k in per[0] if not isinstance(per[0][k], list)}
            rows.append(
                {
                    "code": label,
                    "small runs": name,
                    "runs x rounds": f"{per[0]['runs']} x {len(per)}",
                    "wall ms/run read, score (last round)": per[-1]["wall ms/run (read, score)"],
                    "CPU ms/run read, score (last round)": per[-1]["CPU ms/run (read, score)"],
                    **{k: round(v, 1) for k, v in med.items() if k != "runs"},
                    **{
                        f"{k} (last round)": per[-1][k]
                        for k in ("batch CPU ms/run (read, score)",)
                        if k in per[-1]
                    },
                    "code path": rounds[0]["code"],
                }
            )
    return rows, profiles


@contextlib.contextmanager
def cluster_for(mode: str) -> Iterator[str | None]:
    """A fresh 2-worker LocalCluster's scheduler address for the cluster mode, else None."""
    if not mode.startswith("LocalCluster"):
        yield None
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def modes(args: argparse.Namespace, work: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    runs = pick_runs(args.runs)
    jobs = sum(sum(1 for _ in f.open()) - 1 for f in runs)
    src = link(runs, work / "runs")
    one = link([min(runs, key=lambda f: f.stat().st_size)], work / "one")
    env = {
        **os.environ,
        "FLOWSLEUTH_HOME": str(work / "home"),
        "FLOWSLEUTH_CONFIG": str(work / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "FLOWSLEUTH_BACKEND": "none",
    }
    names = ["serial", "--workers 2", "LocalCluster 2 workers"]
    shadow, before_env = None, {}
    if args.before:  # the same serial command on the code of REF, for the per-run work's effect
        path, shadow = shadow_tree(args.before, work / "modes-before")
        before_env = {"PYTHONPATH": str(path)}
        names.append(f"serial, code of {args.before}")
    try:
        rows = _time_modes(names, args, work, env, before_env, src, one, runs, jobs)
    finally:
        if shadow is not None:
            repo = Path(__file__).resolve().parent.parent
            subprocess.run(["git", "worktree", "remove", "--force", str(shadow)], cwd=repo, check=False)
    base = rows[0]["wall s"]
    for r in rows:
        r["speed-up vs serial"] = round(base / r["wall s"], 2)
    mix = {
        w: sum(f.name.startswith(w) for f in runs) for w in ("1000-genome", "montage", "predict-future-sales")
    }
    return rows, {"runs by workflow": mix}


def _time_modes(
    names: list[str],
    args: argparse.Namespace,
    work: Path,
    env: dict[str, str],
    before_env: dict[str, str],
    src: Path,
    one: Path,
    runs: list[Path],
    jobs: int,
) -> list[dict[str, Any]]:
    """One row per mode: wall time, rates, start-up, and whether its bytes are the serial's."""
    rows: list[dict[str, Any]] = []
    serial_bytes = b""
    for name in names:
        slug = name.split()[0].strip("-,").lower() + ("-before" if "code of" in name else "")
        print(f"mode {name}: {len(runs)} runs (load {load()})", flush=True)
        before = load()
        run_env = {**env, **before_env} if "code of" in name else env
        # A fresh cluster for each command: its workers' imports and models are never warm.
        with cluster_for(name) as address:
            extra = (
                ["--workers", "2"] if name == "--workers 2" else ["--scheduler", address] if address else []
            )
            startup = triage(one, work / f"one-{slug}.jsonl", run_env, extra, args.limit_s)
        with cluster_for(name) as address:
            extra = (
                ["--workers", "2"] if name == "--workers 2" else ["--scheduler", address] if address else []
            )
            out = work / f"{slug}.jsonl"
            wall = triage(src, out, run_env, extra, args.limit_s)
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
                "marginal runs/s": round((len(runs) - 1) / (wall - startup), 2) if wall > startup else None,
                "same bytes as serial": data == serial_bytes,
                "load before / after": [before, load()],
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="Flow-Bench runs for the three modes")
    ap.add_argument("--overhead-runs", type=int, default=20, help="small runs per set and round")
    ap.add_argument("--rounds", type=int, default=2, help="overhead rounds (trees alternate)")
    ap.add_argument("--batch", type=int, default=64, help="small runs scored as one batch (if the code can)")
    ap.add_argument("--profile", type=int, default=20, help="profiled scoring passes (12-job runs)")
    ap.add_argument("--before", help="git ref whose small-run overhead (and serial triage) to measure too")
    ap.add_argument("--limit-s", type=float, default=900.0, help="time limit of each command")
    ap.add_argument("--small-runs", type=int, default=500, help="12-job runs through the CLI (part small)")
    ap.add_argument("--only", choices=("overhead", "modes", "small"), help="one part (writes only its files)")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        args.runs, args.overhead_runs, args.rounds, args.profile, args.batch = 6, 4, 1, 2, 4
        args.small_runs = 6
    work = Path(tempfile.mkdtemp(prefix="flowsleuth-scale-"))
    load_start = load()
    small_rows, profiles = overhead(args, work) if args.only in (None, "overhead") else ([], {})
    mode_rows, mix = modes(args, work) if args.only in (None, "modes") else ([], {})
    cli_rows = _small(args, work) if args.only in (None, "small") else []
    meta = {
        "protocol": " ".join(__doc__.split("Protocol:")[1].split("Usage:")[0].split()),
        **mix,
        "load average (1, 5, 15 min) at start / end": [load_start, load()],
        "target small runs/s per core": 50,
        **machine(),
    }
    out_dir = results_dir(args.smoke)
    if mode_rows:
        title = "triage at scale: serial vs --workers 2 vs LocalCluster"
        write_results("scale", mode_rows, meta, title, out_dir)
    if small_rows:
        title = "per-run overhead of small runs, one core (before / after)"
        write_results("scale_overhead", small_rows, meta, title, out_dir)
        write_profile(out_dir / "scale_profile.md", profiles, args)
    if cli_rows:
        title = "many small runs through the CLI: serial vs --workers 2 (before / after)"
        write_results("scale_small", cli_rows, {**meta, "protocol": _small_protocol()}, title, out_dir)
    print(f"results in {out_dir}")


def _small(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    from bench.scale_small import small  # it imports this module's helpers

    return small(args, work)


def _small_protocol() -> str:
    from bench import scale_small

    return " ".join((scale_small.__doc__ or "").split())


def write_profile(path: Path, profiles: dict[str, Any], args: argparse.Namespace) -> None:
    """Where a small run's time goes: the cProfile tables of each code tree, as markdown."""
    from bench._common import command

    md = [
        "# Where a small run's time goes",
        "",
        f"- command: {command()}",
        f"- what: cProfile of scoring {args.profile} 12-job eht_imaging runs: run by run "
        "(``triage_run(kit.deps(run))``) on code that does not batch, as one batch "
        "(``kit.deps_many(runs)``, what triage does with consecutive small runs) on code that does; "
        "the registry's tool threads run inline so the profiler sees them; CPU time; "
        "profiling inflates every call, so read shares, not absolute times",
        "",
    ]
    for label, prof in profiles.items():
        md += [f"## {label}", "", f"total profiled ms/run: {prof.get('total profiled ms/run')}", ""]
        for title in ("flowsleuth functions by cumulative time", "all functions by own time"):
            rows = prof.get(title, [])
            if not rows:
                continue
            cols = list(rows[0])
            md += [f"### {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            md += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
            md += [""]
    path.write_text("\n".join(md))
    (path.with_suffix(".json")).write_text(json.dumps(profiles, indent=2))


if __name__ == "__main__":
    main()
