"""Agent and CLI speed: fast-path triage and per-job `why` latency per LLM backend.

Protocol: models and index come from --home (default: a home prepared from the bundled sample
without the runs measured here, as `flowsleuth demo` does). Triage is timed on the bundled
539-job Montage run (median of --repeat) and over all bundled runs (throughput); `why` is timed
per job on jobs of the bundled 1000 Genome hdd_5 run, for each backend asked for.

Usage: .venv/bin/python -m bench.agent [--home DIR] [--backends none embedded]
       [--base-url URL --model NAME] [--jobs 10] [--repeat 3]
Writes bench/results/agent.{json,md}.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
from flowsleuth.agent.investigate import investigate
from flowsleuth.agent.llm.settings import DEFAULT_BASE_URL, DEFAULT_MODEL
from flowsleuth.agent.triage import triage_run
from flowsleuth.cli.app.prepare import is_prepared, prepare_home
from flowsleuth.cli.app.settings import Settings
from flowsleuth.cli.app.toolkit import load_toolkit
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sample import sample_run, sample_runs

from bench._common import machine, median, timed, write_results

MONTAGE = "montage-run0747"
WHY_RUN = "1000-genome-run0084"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=Path("/tmp/flowsleuth-bench-agent-home"))
    ap.add_argument("--backends", nargs="+", default=["none", "embedded"])
    ap.add_argument("--base-url", default=DEFAULT_BASE_URL)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument(
        "--jobs", type=int, default=10, help="jobs per backend for `why` (embedded: min(3, jobs))"
    )
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    held_out = {MONTAGE, WHY_RUN}
    if not (args.home / "models").is_dir() and not is_prepared(args.home, "bench-agent-v1"):
        train = [load_run(p) for p in sample_runs() if p.stem not in held_out]
        prepare_home(args.home, train, "bench-agent-v1")
    rows = []
    kit = load_toolkit(Settings(home=args.home, backend="none"), llm=False, sft=False)
    montage = load_run(sample_run(MONTAGE)).without_labels()
    triage_run(kit.deps(montage))  # warm-up: model loading, embedder
    _, times = timed(lambda: triage_run(kit.deps(montage)), args.repeat)
    rows.append(
        {
            "what": f"triage {MONTAGE} ({len(montage)} jobs), fast path",
            "median_s": median(times),
            "jobs_per_s": round(len(montage) / median(times), 1),
            "n": args.repeat,
        }
    )
    every = [load_run(p).without_labels() for p in sample_runs()]
    _, (t_all,) = timed(lambda: [triage_run(kit.deps(r)) for r in every])
    n_jobs = sum(len(r) for r in every)
    rows.append(
        {
            "what": f"triage all {len(every)} bundled runs ({n_jobs} jobs)",
            "median_s": t_all,
            "jobs_per_s": round(n_jobs / t_all, 1),
            "n": 1,
        }
    )
    run = load_run(sample_run(WHY_RUN)).without_labels()
    jobs = [j for j in run.job_ids if j.startswith("individuals_")]
    for backend in args.backends:
        cfg = Settings(home=args.home, backend=backend, base_url=args.base_url, model=args.model)
        kit_b = load_toolkit(cfg)
        n = min(args.jobs, 3) if backend == "embedded" else args.jobs
        investigate(kit_b.deps(run, jobs[0]), jobs[0])  # warm-up (loads the LLM)
        lat, tokens, used = [], [], 0
        for job in jobs[1 : n + 1]:
            t0 = time.perf_counter()
            v = investigate(kit_b.deps(run, job), job)  # what `why` does: score the job, explain
            lat.append(time.perf_counter() - t0)
            used += v.backend.llm_used
            if v.backend.llm_used and kit_b.llm is not None:
                tokens.append(kit_b.llm.usage.total_tokens)
        rows.append(
            {
                "what": f"why, backend {backend}",
                "median_s": median(lat),
                "p95_s": round(float(np.percentile(lat, 95)), 3),
                "n": len(lat),
                "llm_used": f"{used}/{len(lat)}",
                "tokens_per_job_median": median(tokens) if tokens else None,
            }
        )
    meta = {
        **machine(),
        "home": str(args.home),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    write_results("agent", rows, meta, "Triage and why: wall time per backend")


if __name__ == "__main__":
    main()
