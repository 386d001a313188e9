"""Benchmark of the classifier tool: SFT (paper / enriched sentences) and trees (with / without
run context), on the paper's split and the split by whole runs, plus the paper's side
experiments at CPU scale. Parts run separately (they can run at the same time) and
``--part report`` merges them into bench/results/sft.json and sft.md.

    .venv/bin/python -m bench.sft --part trees --tree-max-train 40000 --save-model /tmp/tree-full
    .venv/bin/python -m bench.sft --part sft --workflows 1000-genome \
        --sft-train 400 --sft-val 100 --sft-test 300
    .venv/bin/python -m bench.sft --part side --workflows 1000-genome montage --side bias,forgetting
    .venv/bin/python -m bench.sft --part report
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

from flowsleuth.tools.classifier.sft_train import TrainConfig, resolve_device

from bench._common import machine, results_dir
from bench.sft.data import (
    WORKFLOWS,
    TextSource,
    load_export,
    load_workflow,
    sample_splits,
    splits_of,
    texts_of,
)
from bench.sft.report import write_report


def _device_name(device: str) -> str:
    import torch

    dev = resolve_device(device)  # type: ignore[arg-type]
    return torch.cuda.get_device_name(0) if dev == "cuda" else f"cpu ({os.cpu_count()} cores)"


def main() -> None:
    ap = argparse.ArgumentParser(
        prog="python -m bench.sft", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--part", choices=("trees", "sft", "side", "report"), required=True)
    ap.add_argument("--workflows", nargs="*", default=list(WORKFLOWS))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/flowsleuth-bench-cache"))
    ap.add_argument("--sft-train", type=int, default=600, help="SFT training rows (subsample; 0 = all)")
    ap.add_argument("--sft-val", type=int, default=200, help="SFT validation rows (subsample)")
    ap.add_argument("--sft-test", type=int, default=500, help="SFT test rows (subsample; 0 = all)")
    ap.add_argument("--save-model", type=Path, default=None, help="trees: save the best model here")
    ap.add_argument("--tree-max-train", type=int, default=None, help="trees: subsample training rows")
    ap.add_argument("--sft-eval-every", type=int, default=None, help="SFT: steps between evaluations")
    ap.add_argument("--side", default="bias,balance,forgetting", help="side experiments to run")
    ap.add_argument("--from-export", type=Path, default=None, help="read bench/sft/export.py output")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="SFT device")
    ap.add_argument("--epochs", type=float, default=1.0, help="SFT epochs (early stopping inside)")
    ap.add_argument("--batch-size", type=int, default=16, help="SFT batch size")
    ap.add_argument("--multiclass", action="store_true", help="SFT: also fit a multi-class model")
    ap.add_argument("--splits", nargs="*", default=["paper", "run"], help="SFT: which splits")
    ap.add_argument("--templates", nargs="*", default=["paper", "enriched"], help="SFT inputs to fit")
    ap.add_argument("--rows-jsonl", type=Path, default=None, help="SFT: append each finished row here")
    ap.add_argument("--tag", default="", help="suffix of the result file: sft_<part><tag>.json")
    ap.add_argument(
        "--smoke", action="store_true", help="--part sft on the bundled sample, tiny; not in bench/results"
    )
    args = ap.parse_args()
    if args.part == "report":
        write_report()
        return
    if args.smoke:
        if args.part != "sft":
            ap.error("--smoke runs --part sft only")
        args.workflows, args.splits, args.templates = ["1000-genome"], ["smoke"], ["paper"]
        args.sft_train, args.sft_val, args.sft_test = 48, 16, 32
    out_dir = results_dir(args.smoke)
    start = time.perf_counter()
    n_train, n_test = args.sft_train or None, args.sft_test or None
    base = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        device=args.device,
        eval_every=args.sft_eval_every,
        progress=False,
    )
    txs: dict[str, TextSource]
    if args.smoke:
        splits, txs = {}, {}
        for wf in args.workflows:
            splits[wf], txs[wf] = sample_splits(wf)
    elif args.from_export is not None:
        loaded = {wf: load_export(args.from_export, wf) for wf in args.workflows}
        splits = {wf: v[0] for wf, v in loaded.items()}
        txs = {wf: v[1] for wf, v in loaded.items()}
    else:
        data = {wf: load_workflow(wf, args.cache) for wf in args.workflows}
        splits = {wf: splits_of(wf, runs) for wf, runs in data.items()}
        txs = texts_of(splits)
    if args.part == "trees":
        from bench.sft.trees import run_trees

        out: dict[str, Any] = run_trees(splits, args.save_model, args.tree_max_train)
    else:
        if args.part == "sft":
            from bench.sft.models import run_sft

            chosen = {wf: {k: v for k, v in by.items() if k in args.splits} for wf, by in splits.items()}
            out = run_sft(
                chosen,
                txs,
                n_train,
                args.sft_val,
                n_test,
                base,
                args.multiclass,
                tuple(args.templates),
                args.rows_jsonl,
            )
        else:
            from bench.sft.side import run_side

            out = run_side(splits, txs, n_train, args.sft_val, n_test, args.side.split(","), base)
    out["meta"] = {
        **machine(),
        "part": args.part,
        "argv": sys.argv[1:],
        "wall_s": round(time.perf_counter() - start, 1),
        "threads": os.environ.get("FLOWSLEUTH_THREADS", "1"),
        "device": _device_name(args.device),
        "load_avg_end": os.getloadavg(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"sft_{args.part}{args.tag}.json").write_text(json.dumps(out, indent=1, default=str))
    write_report(out_dir)


if __name__ == "__main__":
    main()
