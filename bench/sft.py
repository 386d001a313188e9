"""Benchmark of the classifier tool: SFT (paper / enriched sentences) and trees (with / without
run context), on the paper's split and the split by whole runs, plus the paper's side
experiments at CPU scale. Parts run separately (they can run at the same time) and
``--part report`` merges them into bench/results/sft.json and sft.md.

    .venv/bin/python bench/sft.py --part trees --tree-max-train 40000 --save-model /tmp/tree-full
    .venv/bin/python bench/sft.py --part sft --workflows 1000-genome \
        --sft-train 400 --sft-val 100 --sft-test 300
    .venv/bin/python bench/sft.py --part side --workflows 1000-genome montage --side bias,forgetting
    .venv/bin/python bench/sft.py --part report
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import RESULTS, machine
from bench.sft_data import WORKFLOWS, load_workflow, splits_of
from bench.sft_report import write_report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", choices=("trees", "sft", "side", "report"), required=True)
    ap.add_argument("--workflows", nargs="*", default=list(WORKFLOWS))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/flowsleuth-bench-cache"))
    ap.add_argument("--sft-train", type=int, default=600, help="SFT training rows (subsample)")
    ap.add_argument("--sft-val", type=int, default=200, help="SFT validation rows (subsample)")
    ap.add_argument("--sft-test", type=int, default=500, help="SFT test rows (subsample)")
    ap.add_argument("--save-model", type=Path, default=None, help="trees: save the best model here")
    ap.add_argument("--tree-max-train", type=int, default=None, help="trees: subsample training rows")
    ap.add_argument("--sft-eval-every", type=int, default=None, help="SFT: steps between evaluations")
    ap.add_argument("--side", default="bias,balance,forgetting", help="side experiments to run")
    args = ap.parse_args()
    if args.part == "report":
        write_report()
        return
    start = time.perf_counter()
    data = {wf: load_workflow(wf, args.cache) for wf in args.workflows}
    splits = {wf: splits_of(wf, runs) for wf, runs in data.items()}
    if args.part == "trees":
        from bench.sft_trees import run_trees

        out: dict[str, Any] = run_trees(splits, args.save_model, args.tree_max_train)
    elif args.part == "sft":
        from bench.sft_models import run_sft

        out = run_sft(splits, args.sft_train, args.sft_val, args.sft_test, args.sft_eval_every)
    else:
        from bench.sft_side import run_side

        out = run_side(
            splits, args.sft_train, args.sft_val, args.sft_test, args.side.split(","), args.sft_eval_every
        )
    out["meta"] = {
        **machine(),
        "part": args.part,
        "argv": sys.argv[1:],
        "wall_s": round(time.perf_counter() - start, 1),
        "threads": os.environ.get("FLOWSLEUTH_THREADS", "1"),
        "load_avg_end": os.getloadavg(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"sft_{args.part}.json").write_text(json.dumps(out, indent=1, default=str))
    write_report()


if __name__ == "__main__":
    main()
