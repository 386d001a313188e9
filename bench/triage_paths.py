"""Triage throughput: the one scoring path (registry + decide, per run) vs the old fast path.

Protocol: one process, one home (models + index prepared from the bundled sample minus the runs
bench/agent.py holds out, as there), every bundled run triaged without labels and without LLM
explanations. The old path is reproduced below as it was before issue #11 (each source called
directly, fused per job, no registry, no time limits); the new one is ``triage_run``. The two
alternate for --repeat rounds after a warm-up; medians of the per-round wall times are quoted,
and their ratio. Rows are also compared (flag and class agreement) as a sanity check.

Usage: .venv/bin/python -m bench.triage_paths [--home DIR] [--repeat 5] [--smoke]
Writes bench/results/triage_paths.{json,md} (--smoke: two runs, one round, not in bench/results).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd
from flowsleuth.agent.triage import triage_run
from flowsleuth.cli.app.prepare import is_prepared, prepare_home
from flowsleuth.cli.app.settings import Settings
from flowsleuth.cli.app.toolkit import SCORER_TOOLS, Toolkit, load_toolkit
from flowsleuth.tools.decision.decide import pick_class
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_runs

from bench._common import machine, median, results_dir, write_results

HELD_OUT = {"montage-run0747", "1000-genome-run0084"}
KEY = "bench-agent-v1"


def legacy_triage(kit: Toolkit, run: Run) -> list[tuple[str, bool, str]]:
    """The pre-#11 fast path: every source called directly, fused per job."""
    from flowsleuth.retrieval import vote_run
    from flowsleuth.tools.diagnosis import diagnose_run, job_anomaly_score

    subject = kit.subject(run).warmed()
    scores = pd.DataFrame(index=run.frame.index)
    classes = pd.DataFrame(index=run.frame.index)
    for name, scorer in kit.models.items():
        out = scorer.score_runs([run]).set_index("node_id")
        scores[SCORER_TOOLS[name]] = out["score"].astype(float)
        classes[SCORER_TOOLS[name]] = out["pred_class"].astype(str)
    if kit.index is not None:
        votes = vote_run(kit.index, subject)
        scores["knn_vote"] = [v.score if (v := votes.get(j)) else math.nan for j in run.job_ids]
        classes["knn_vote"] = [v.predicted_class if (v := votes.get(j)) else "" for j in run.job_ids]
    diag = diagnose_run(subject, model=kit.diagnosis)
    scores["run_diagnosis"] = [job_anomaly_score(diag, h) for h in run.frame["kickstart_hostname"].fillna("")]
    classes["run_diagnosis"] = diag.label
    fusion = kit.fusion.for_workflow(run.workflow)
    rows = []
    for job_id, srow in scores.to_dict("index").items():
        fused = fusion.predict({str(k): float(v) for k, v in srow.items() if not math.isnan(v)})
        flagged = fused is not None and fused >= fusion.threshold
        cls = pick_class({str(k): str(v) for k, v in classes.loc[job_id].items()}) if flagged else "None"
        rows.append((str(job_id), flagged, cls))
    return rows


def new_triage(kit: Toolkit, run: Run) -> list[tuple[str, bool, str]]:
    return [(r.job_id, r.is_anomalous, r.anomaly_class) for r in triage_run(kit.deps(run)).rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=Path("/tmp/flowsleuth-bench-agent-home"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="two small runs, one round (a check, not a result)")
    args = ap.parse_args()
    if args.smoke:
        args.repeat = 1
    if not (args.home / "models").is_dir() and not is_prepared(args.home, KEY):
        prepare_home(args.home, [load_run(p) for p in sample_runs() if p.stem not in HELD_OUT], KEY)
    kit = load_toolkit(Settings(home=args.home, backend="none"), llm=False, sft=False)
    runs = [load_run(p).without_labels() for p in sample_runs()]
    if args.smoke:
        runs = [r for r in runs if r.workflow == "1000-genome"][:2]
    n_jobs = sum(len(r) for r in runs)
    paths = {"old fast path": legacy_triage, "one scoring path": new_triage}
    out: dict[str, Any] = {name: [fn(kit, r) for r in runs] for name, fn in paths.items()}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.repeat):
        for name, fn in paths.items():
            t0 = time.perf_counter()
            out[name] = [fn(kit, r) for r in runs]
            times[name].append(time.perf_counter() - t0)
    old, new = ([row for rows in out[n] for row in rows] for n in paths)
    same_flag = sum(a[1] == b[1] for a, b in zip(old, new, strict=True)) / len(old)
    same_class = sum(a[2] == b[2] for a, b in zip(old, new, strict=True)) / len(old)
    rows = [
        {
            "path": name,
            "median_s": round(median(ts), 3),
            "jobs_per_s": round(n_jobs / median(ts), 1),
            "rounds": len(ts),
        }
        for name, ts in times.items()
    ]
    ratio = median(times["one scoring path"]) / median(times["old fast path"])
    rows.append({"path": "new / old time", "median_s": round(ratio, 3)})
    meta = {
        "protocol": f"{len(runs)} bundled runs ({n_jobs} jobs), no labels, no LLM; tree + kNN + diagnosis; "
        f"paths alternate for {args.repeat} rounds after a warm-up; medians of round times",
        "agreement": f"flag {same_flag:.4f}, class {same_class:.4f} of jobs",
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    title = "Triage throughput: one scoring path vs the old fast path"
    write_results("triage_paths", rows, meta, title, out=results_dir(smoke=args.smoke))


if __name__ == "__main__":
    main()
