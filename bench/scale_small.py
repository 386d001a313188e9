"""Many small runs through the real CLI: ``flowsleuth triage DIR -f jsonl --out F --explain 0``
on ``--small-runs`` 12-job eht_imaging runs, serial and ``--workers 2``, per code tree (this
checkout, and ``--before REF``). Part of ``bench.scale`` (``--only small``).

Each command runs in a fresh process on a fresh home. ``startup``: the same command on one run;
``marginal runs/s`` = (runs - 1) / (wall - startup wall) and ``CPU ms/run`` = (CPU - startup
CPU) / (runs - 1), where CPU is the user + system time of the command and every process below it
(workers included), sampled from /proc every 0.1 s. Every command's bytes are compared with this
checkout's serial output.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.scale import CLI, load, shadow_tree

EXTRA = Path("/work/shared/flowbench/extra/eht_imaging.zip")


def _tree_cpu(root: int, last: dict[tuple[int, int], float]) -> None:
    """Record in ``last`` the CPU seconds so far (user + system) of ``root`` and every process
    below it, keyed by (pid, start time) so a reused pid is a new entry."""
    tick = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[int, tuple[int, int], float]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid = int(name)
        procs[pid] = (int(fields[1]), (pid, int(fields[19])), (int(fields[11]) + int(fields[12])) / tick)
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, (ppid, _, _) in procs.items() if ppid in tree} - tree
        tree |= below
        grew = bool(below)
    for pid in tree & procs.keys():
        _, key, cpu = procs[pid]
        last[key] = cpu


def timed_triage(
    src: Path, out: Path, env: dict[str, str], extra: list[str], limit_s: float
) -> tuple[float, float]:
    """(wall s, CPU s) of one triage command. The CPU is that of the command and every process
    below it (its forkserver's workers are not its children: the parent's rusage misses them),
    sampled from /proc every 0.1 s: each process's last tenth of a second can be missed."""
    cmd = [sys.executable, "-c", CLI, "triage", str(src), "-f", "jsonl", "--out", str(out), "--explain", "0"]
    last: dict[tuple[int, int], float] = {}
    t0 = time.perf_counter()
    err = out.with_suffix(".stderr")
    with err.open("w") as err_fh:
        proc = subprocess.Popen([*cmd, *extra], env=env, stdout=subprocess.DEVNULL, stderr=err_fh)
        while proc.poll() is None:
            if time.perf_counter() - t0 > limit_s:
                proc.kill()
                raise SystemExit(f"triage {' '.join(extra) or 'serial'} ran past {limit_s:g} s")
            _tree_cpu(proc.pid, last)
            time.sleep(0.1)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"triage failed ({proc.returncode}): {err.read_text()[-2000:]}")
    return wall, sum(last.values())


def _extract(n: int, into: Path) -> tuple[Path, Path]:
    """``n`` runs (the first by name) in ``into/runs``, the first of them alone in ``into/one``."""
    runs, one = into / "runs", into / "one"
    runs.mkdir(parents=True)
    one.mkdir()
    with zipfile.ZipFile(EXTRA) as z:
        names = sorted(m for m in z.namelist() if m.endswith(".csv"))[:n]
        if len(names) < n:
            raise SystemExit(f"{EXTRA} holds {len(names)} runs, fewer than --small-runs {n}")
        for m in names:
            (runs / Path(m).name).write_bytes(z.read(m))
        (one / Path(names[0]).name).write_bytes(z.read(names[0]))
    return runs, one


def small(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """One row per (code tree, mode)."""
    src, one = _extract(args.small_runs, work / "small")
    env = {
        **os.environ,
        "FLOWSLEUTH_HOME": str(work / "small-home"),
        "FLOWSLEUTH_CONFIG": str(work / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "FLOWSLEUTH_BACKEND": "none",
    }
    trees: dict[str, dict[str, str]] = {"after (this checkout)": {}}
    shadow = None
    if args.before:
        path, shadow = shadow_tree(args.before, work / "small-before")
        trees = {f"before ({args.before})": {"PYTHONPATH": str(path)}, **trees}
    rows: list[dict[str, Any]] = []
    outputs: dict[str, bytes] = {}
    try:
        for mode, extra in (("serial", []), ("--workers 2", ["--workers", "2"])):
            for label, tree_env in trees.items():
                run_env = {**env, **tree_env}
                print(f"small runs: {label}, {mode} (load {load()})", flush=True)
                before = load()
                slug = f"{mode.strip('-').split()[0]}-{label.split()[0]}"
                w1, c1 = timed_triage(one, work / f"small-one-{slug}.jsonl", run_env, extra, args.limit_s)
                out = work / f"small-{slug}.jsonl"
                wall, cpu = timed_triage(src, out, run_env, extra, args.limit_s)
                outputs[f"{label} {mode}"] = out.read_bytes()
                n = args.small_runs
                rows.append(
                    {
                        "code": label,
                        "mode": mode,
                        "runs": n,
                        "wall s": round(wall, 2),
                        "CPU s": round(cpu, 2),
                        "startup wall s, CPU s (1 run)": [round(w1, 2), round(c1, 2)],
                        "marginal runs/s": round((n - 1) / (wall - w1), 1) if wall > w1 else None,
                        "CPU ms/run": round(1000 * (cpu - c1) / (n - 1), 2),
                        "runs/s per core (CPU)": round((n - 1) / (cpu - c1), 1) if cpu > c1 else None,
                        "load before / after": [before, load()],
                    }
                )
    finally:
        if shadow is not None:
            repo = Path(__file__).resolve().parent.parent
            subprocess.run(["git", "worktree", "remove", "--force", str(shadow)], cwd=repo, check=False)
    reference = outputs["after (this checkout) serial"]
    for r in rows:
        r["same bytes as serial (after)"] = outputs[f"{r['code']} {r['mode']}"] == reference
    return rows
