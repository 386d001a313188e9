"""Per-run overhead of small runs, in one process pinned to one core: where a 12- or 60-job
run's time goes. Run by ``bench.scale`` once per code tree (the current one, and ``--before
REF``), so it only uses calls both trees have.

Protocol: the first ``--runs`` CSVs (by name) of each Flow-Bench extra zip (eht_imaging: 12
jobs a run, somospie: 60), extracted to a temp folder; the toolkit loaded once (pretrained
models, no index, no LLM, no SFT); 3 warm-up runs; then, per run, ``load_run`` (read) and
``triage_run(kit.deps(run))`` (score) timed apart, in wall time and in CPU time of the
process (all its threads; on a shared box the CPU time is the per-core cost, the wall time
also holds the waits for a core); medians. ``--profile N``: cProfile of the scoring passes of
N more 12-job runs (never scored before: no memo hits), in CPU time (on a busy box, wall time
lands in whatever function was running), with the registry's tool threads run inline so the
profiler sees them (threads hide from cProfile)."""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import time
import zipfile
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from bench._common import isolated_core

EXTRA = Path("/work/shared/flowbench/extra")
SETS = {"eht_imaging (12 jobs)": "eht_imaging.zip", "somospie (60 jobs)": "somospie.zip"}


def extract(zip_name: str, n: int, into: Path) -> list[Path]:
    with zipfile.ZipFile(EXTRA / zip_name) as z:
        names = sorted(m for m in z.namelist() if m.endswith(".csv"))[:n]
        return [Path(z.extract(m, into)) for m in names]


def inline_tool_calls() -> None:
    """Run each tool call in the calling thread (profiling only: no time limit)."""
    from flowsleuth.tools.registry import runner

    def start(cls, name, fn, timeout_s, on_error, *, plugin=False):  # type: ignore[no-untyped-def]
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn())
        except BaseException as err:
            fut.set_exception(err)
        return cls(fut, timeout_s, on_error)

    runner.Call.start = classmethod(start)  # type: ignore[method-assign,assignment]


def profile_rows(prof: cProfile.Profile, repeat: int, tree: str) -> dict[str, list[dict[str, Any]]]:
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())

    def row(key: Any, v: Any) -> dict[str, Any]:
        file, line, fn = key
        where = file.split(tree)[-1].lstrip("/") if tree in file else Path(file).name
        return {
            "function": f"{where}:{line}({fn})",
            "calls/run": round(v[1] / repeat, 1),
            "own ms/run": round(1000 * v[2] / repeat, 2),
            "cum ms/run": round(1000 * v[3] / repeat, 2),
            "own share": f"{v[2] / total:.1%}",
        }

    ours = sorted(((k, v) for k, v in stats.items() if tree in k[0]), key=lambda kv: -kv[1][3])
    own = sorted(stats.items(), key=lambda kv: -kv[1][2])
    return {
        "flowsleuth functions by cumulative time": [row(k, v) for k, v in ours[:25]],
        "all functions by own time": [row(k, v) for k, v in own[:15]],
        "total profiled ms/run": round(1000 * total / repeat, 1),  # type: ignore[dict-item]
    }


def batch_times(kit: Any, files: list[Path]) -> dict[str, Any]:
    """``files`` read one by one, then scored as one batch (``Toolkit.deps_many``, as triage
    scores consecutive small runs): per-run wall and CPU, the batch's total over its runs."""
    from flowsleuth.agent.triage import triage_run
    from flowsleuth.workflows.loader import load_run

    t0, c0 = time.perf_counter(), time.process_time()
    runs = [load_run(f) for f in files]
    c1 = time.process_time()
    [triage_run(d) for d in kit.deps_many(runs)]
    t2, c2 = time.perf_counter(), time.process_time()
    n = len(runs)
    return {
        "batch runs": n,
        "batch CPU ms/run (read, score)": [round(1000 * (c1 - c0) / n, 1), round(1000 * (c2 - c1) / n, 1)],
        "batch runs/s per core, wall (read + score)": round(n / (t2 - t0), 1),
        "batch runs/s per core, CPU (read + score)": round(n / (c2 - c0), 1),
        "batch runs/s per core, CPU (score only)": round(n / (c2 - c1), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--profile", type=int, default=0)
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--batch", type=int, default=64, help="runs scored as one batch (code that batches)")
    args = ap.parse_args()
    work = isolated_core("flowsleuth-overhead-")
    import flowsleuth.workflows as fw
    from flowsleuth.agent.triage import triage_run
    from flowsleuth.cli.app.settings import load_settings
    from flowsleuth.cli.app.toolkit import Toolkit, load_toolkit
    from flowsleuth.workflows.loader import load_run

    tree = str(Path(next(iter(fw.__path__))).parent)  # as the profiler names its files
    t0 = time.perf_counter()
    kit = load_toolkit(load_settings(backend="none"), llm=False, sft=False)
    out: dict[str, Any] = {
        "code": str(Path(tree).resolve()),
        "toolkit load s": round(time.perf_counter() - t0, 2),
        "sets": {},
    }
    batched = hasattr(Toolkit, "deps_many") and args.batch > 0  # the code scores batches of runs
    unseen: list[Path] = []  # profiled runs: never scored before (no memo of any kind hits)
    for name, zip_name in SETS.items():
        extra = args.batch if batched else 0
        files = extract(zip_name, args.runs + extra + (0 if unseen else args.profile), work / zip_name)
        files, in_batch, unseen = (
            files[: args.runs],
            files[args.runs : args.runs + extra],
            unseen or files[args.runs + extra :],
        )
        for f in files[:3]:
            triage_run(kit.deps(load_run(f)))  # warm-up: lazy imports, first-call costs
        read, score, cpu_read, cpu_score = [], [], [], []
        for f in files:
            t0, c0 = time.perf_counter(), time.process_time()
            run = load_run(f)
            t1, c1 = time.perf_counter(), time.process_time()
            triage_run(kit.deps(run))
            read.append(t1 - t0)
            score.append(time.perf_counter() - t1)
            cpu_read.append(c1 - c0)
            cpu_score.append(time.process_time() - c1)
        r, s = statistics.median(read), statistics.median(score)
        cr, cs = statistics.median(cpu_read), statistics.median(cpu_score)
        out["sets"][name] = {
            "runs": len(files),
            "wall ms/run (read, score)": [round(1000 * r, 1), round(1000 * s, 1)],
            "CPU ms/run (read, score)": [round(1000 * cr, 1), round(1000 * cs, 1)],
            "runs/s per core, wall (read + score)": round(1 / (r + s), 1),
            "runs/s per core, CPU (read + score)": round(1 / (cr + cs), 1),
            "runs/s per core, CPU (score only)": round(1 / cs, 1),
        }
        if batched:
            out["sets"][name].update(batch_times(kit, in_batch))
    if args.profile:
        inline_tool_calls()
        runs = [load_run(f) for f in unseen]
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        if batched:
            [triage_run(d) for d in kit.deps_many(runs)]
        else:
            for run in runs:
                triage_run(kit.deps(run))
        prof.disable()
        out["profile scores"] = "one batch" if batched else "run by run"
        out["profile"] = profile_rows(prof, len(runs), tree)
    args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
