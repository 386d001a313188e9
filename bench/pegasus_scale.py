"""Triage of a Pegasus archive (a tree of submit directories), serial and ``--workers 2``, and
where a small Pegasus run's per-run time goes.

Protocol:

* The archive: ``--runs`` (default 200) submit directories in Pegasus' layout
  (``<base>/bench/pegasus/<label>/runNNNN``), copied round-robin from the five fixture runs in
  tests/fixtures/pegasus (5 to 28 jobs; the hierarchical ones hold a sub-workflow: 240 runs
  read from 200 dirs). Each copy gets its own ``wf_uuid``s (UPDATE of the copy's ``workflow``
  table and braindump files; the fixtures are never written), so no copy is a duplicate.
* Modes, each the real CLI in a fresh process on a fresh home (pretrained models, no index,
  no LLM): ``flowsleuth triage ARCHIVE -f jsonl --out F --explain 0`` (+ ``--workers 2``).
  ``startup s``: the same command on a 1-run archive; ``marginal runs/s`` = (runs - 1) /
  (wall - startup), jobs likewise; ``CPU s/run``: the command's CPU (its waited-for children
  included, ``RUSAGE_CHILDREN``) less the 1-run command's, per extra run. Output bytes of
  ``--workers 2`` are compared with serial.
* Per-run profile (``--inner``, one fresh process pinned to one core, toolkit loaded once,
  3 warm-up runs): each of ``--profile-runs`` submit dirs read with ``iter_pegasus_runs``
  and scored with ``triage_run(kit.deps(run))``, timed apart (CPU time, medians), then one
  cProfile pass over the same reads: milliseconds per run in each stage of the read. With
  ``--before REF`` the profile also runs on the code of git ref REF (a temporary worktree
  first on PYTHONPATH), alternating rounds: medians over ``--rounds``.

The box is shared (load averages recorded): the ratios of one run are what count.

Usage: nice .venv/bin/python -m bench.pegasus_scale [--runs 200] [--before REF] [--smoke]
Writes bench/results/pegasus_scale.{json,md}.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flowsleuth.workflows.pegasus.writer import renamed_copy

from bench._common import isolated_core, machine, results_dir, write_results
from bench.scale import load, shadow_tree

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "pegasus"
KINDS = [
    "process_wf_success",
    "process_wf_failure",
    "hierarchical_wf_success",
    "hierarchical_wf_failure",
    "sample_wf_held",
]
CLI = "from flowsleuth.cli.main import app; app()"
# Stages of a read: a function's cumulative time (the reader's own functions, both trees have them).
STAGES = {
    "open submit dir (braindump YAML)": "open_submit_dir",
    "connect + schema check (SQLAlchemy)": "check_schema",
    "queries + frames (ADBC)": "read_stampede",
    "kickstart records (YAML)": "_records",
    "Flow-Bench frame + status": "_derive",
    "problem jobs' texts (SQLAlchemy)": "read_texts",
}


def build_archive(n: int, into: Path) -> tuple[Path, list[Path]]:
    base = into / "bench" / "pegasus"
    dirs = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        d = base / kind / f"run{i:04d}"
        renamed_copy(FIXTURES / kind, d, str(i))
        dirs.append(d)
    return into, dirs


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def triage(
    src: Path, out: Path, env: dict[str, str], extra: list[str], limit_s: float
) -> tuple[float, float]:
    """(wall s, CPU s) of one triage command."""
    cmd = [sys.executable, "-c", CLI, "triage", str(src), "-f", "jsonl", "--out", str(out), "--explain", "0"]
    c0, t0 = _cpu_children(), time.perf_counter()
    proc = subprocess.run(
        [*cmd, *extra], env=env, capture_output=True, text=True, check=False, timeout=limit_s
    )
    wall, cpu = time.perf_counter() - t0, _cpu_children() - c0
    if proc.returncode != 0:
        raise SystemExit(f"triage failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, cpu


def modes(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    archive, _ = build_archive(args.runs, work / "archive")
    one, _ = build_archive(1, work / "one")
    env = {
        **os.environ,
        "FLOWSLEUTH_HOME": str(work / "home"),
        "FLOWSLEUTH_CONFIG": str(work / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "FLOWSLEUTH_BACKEND": "none",
    }
    rows: list[dict[str, Any]] = []
    serial = b""
    for name, extra in (("serial", []), ("--workers 2", ["--workers", "2"])):
        slug = "serial" if not extra else "workers2"
        print(f"mode {name}: {args.runs} submit dirs (load {load()})", flush=True)
        before = load()
        start_wall, start_cpu = triage(one, work / f"one-{slug}.jsonl", env, extra, args.limit_s)
        out = work / f"{slug}.jsonl"
        wall, cpu = triage(archive, out, env, extra, args.limit_s)
        lines = out.read_bytes()
        n_runs = len({json.loads(x)["run"] for x in lines.splitlines()})
        n_jobs = len(lines.splitlines())
        serial = serial or lines
        extra_s = max(wall - start_wall, 1e-9)
        rows.append(
            {
                "mode": name,
                "submit dirs": args.runs,
                "runs (with sub-workflows)": n_runs,
                "jobs": n_jobs,
                "wall s": round(wall, 2),
                "startup s": round(start_wall, 2),
                "marginal runs/s": round((n_runs - 1) / extra_s, 1),
                "marginal jobs/s": round(n_jobs / extra_s, 0),
                # pool workers are the forkserver's children: RUSAGE_CHILDREN does not see them all
                "CPU ms/run (marginal)": round(1000 * (cpu - start_cpu) / (n_runs - 1), 1)
                if not extra
                else None,
                "runs/s per CPU-s (marginal)": (
                    round((n_runs - 1) / max(cpu - start_cpu, 1e-9), 1) if not extra else None
                ),
                "bytes == serial": lines == serial,
                "load before / after": [before, load()],
            }
        )
    return rows


# ---- the per-run profile, in its own process (``--inner``) ----


def _stage_ms(prof: cProfile.Profile, n: int, read_ms: float) -> dict[str, float]:
    """Each stage's share of the profiled read, times the unprofiled CPU ms of a read (the
    profiler's own cost, and the load, inflate its milliseconds; shares move less)."""
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    cum: dict[str, float] = {}
    for (file, _, fn), v in stats.items():
        if "flowsleuth" in file or "/workflows/" in file:
            cum[fn] = cum.get(fn, 0.0) + v[3]
    total = cum.get("iter_pegasus_runs", 0.0)
    derive = cum.get("flowbench_frame", 0.0) + cum.get("status_frame", 0.0)
    out = {}
    for label, fn in STAGES.items():
        share = (derive if fn == "_derive" else cum.get(fn, 0.0)) / max(total, 1e-9)
        out[f"{label} ms"] = round(share * read_ms, 2)
    out["whole read, profiled ms"] = round(1000 * total / n, 2)
    return out


def inner(args: argparse.Namespace) -> None:
    work = isolated_core("flowsleuth-pegscale-")
    from flowsleuth.agent.triage import triage_run
    from flowsleuth.cli.app.settings import load_settings
    from flowsleuth.cli.app.toolkit import load_toolkit
    from flowsleuth.workflows.pegasus.reader import iter_pegasus_runs

    _, dirs = build_archive(args.profile_runs + 3, work / "archive")
    kit = load_toolkit(load_settings(backend="none"), llm=False, sft=False)
    for d in dirs[:3]:  # warm-up: lazy imports, first-call costs
        for run in iter_pegasus_runs(d):
            triage_run(kit.deps(run))
    dirs = dirs[3:]
    read, score, runs_read = [], [], 0
    for d in dirs:
        c0 = time.process_time()
        runs = list(iter_pegasus_runs(d))
        c1 = time.process_time()
        for run in runs:
            triage_run(kit.deps(run))
        c2 = time.process_time()
        runs_read += len(runs)
        read.append((c1 - c0) / len(runs))
        score.append((c2 - c1) / len(runs))
    prof = cProfile.Profile()
    prof.enable()
    for d in dirs:
        list(iter_pegasus_runs(d))
    prof.disable()
    r, s = statistics.median(read), statistics.median(score)
    result = {
        "code": str(Path(sys.modules["flowsleuth.workflows"].__path__[0]).resolve().parent),
        "submit dirs": len(dirs),
        "runs": runs_read,
        "CPU ms/run read": round(1000 * r, 2),
        "CPU ms/run score": round(1000 * s, 2),
        "runs/s per core (read + score)": round(1 / (r + s), 1),
        "runs/s per core (read only)": round(1 / r, 1),
        "stages ms/run (cProfile)": _stage_ms(prof, runs_read, 1000 * r),
    }
    args.json.write_text(json.dumps(result, indent=2))


def profiles(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    trees: dict[str, dict[str, str]] = {"after (this checkout)": {}}
    shadow = None
    if args.before:
        path, shadow = shadow_tree(args.before, work / "before")
        trees = {f"before ({args.before})": {"PYTHONPATH": str(path)}, **trees}
    got: dict[str, list[dict[str, Any]]] = {k: [] for k in trees}
    try:
        for rnd in range(args.rounds):
            for label, extra_env in trees.items():
                out = work / f"inner-{rnd}-{label.split()[0]}.json"
                cmd = [sys.executable, "-m", "bench.pegasus_scale", "--inner", "--json", str(out)]
                cmd += ["--profile-runs", str(args.profile_runs)]
                env = {**os.environ, **extra_env, "OMP_NUM_THREADS": "1"}
                print(f"profile round {rnd + 1}: {label} (load {load()})", flush=True)
                subprocess.run(cmd, env=env, check=True, timeout=args.limit_s, cwd=REPO)
                got[label].append({**json.loads(out.read_text()), "load": load()})
    finally:
        if shadow is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(shadow)], cwd=REPO, check=False)
    rows = []
    for label, rounds in got.items():
        med = {
            k: round(statistics.median(r[k] for r in rounds), 2)
            for k in (
                "CPU ms/run read",
                "CPU ms/run score",
                "runs/s per core (read + score)",
                "runs/s per core (read only)",
            )
        }
        rows.append(
            {
                "code": label,
                "runs x rounds": f"{rounds[0]['runs']} x {len(rounds)}",
                **med,
                **{f"{k} (last round)": v for k, v in rounds[-1]["stages ms/run (cProfile)"].items()},
                "loads": [r["load"] for r in rounds],
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--profile-runs", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before", default=None, help="also profile the code of this git ref")
    ap.add_argument("--only", choices=["modes", "profile"], default=None)
    ap.add_argument("--limit-s", type=float, default=900)
    ap.add_argument("--smoke", action="store_true", help="a few runs; results outside bench/results")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        inner(args)
        return
    if args.smoke:
        args.runs, args.profile_runs, args.rounds = 6, 5, 1
    work = Path(tempfile.mkdtemp(prefix="flowsleuth-pegasus-scale-"))
    meta: dict[str, Any] = {**machine(), "load average (1, 5, 15 min) at start": load()}
    rows: list[dict[str, Any]] = []
    try:
        if args.only in (None, "profile"):
            prof_rows = profiles(args, work)
            write_results(
                "pegasus_scale_profile",
                prof_rows,
                meta,
                "Small Pegasus runs: CPU per run, read vs score, and the read's stages",
                results_dir(args.smoke),
            )
        if args.only in (None, "modes"):
            rows = modes(args, work)
            meta["load average at end"] = load()
            write_results(
                "pegasus_scale",
                rows,
                meta,
                f"triage of a Pegasus archive ({args.runs} submit dirs)",
                results_dir(args.smoke),
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
