"""Score fusion on the split by whole runs: each source alone vs. the fused score.

Protocol: for every workflow the runs are split 60/20/20 by whole runs (stratified by the
injected anomaly, seed 42). One tree scorer, one run-diagnosis model and one job index are
built on the TRAIN runs of all three workflows (as the product would be). Each source scores
every job of the VALIDATION and TEST runs; the fusion (per-subset logistic regression plus an
F1-best threshold) is fitted on validation jobs only and measured on test jobs.
Sources alone are measured at their own threshold AND at an F1-best threshold picked on
validation, so fusion is compared with the strongest version of each source.

Usage: .venv/bin/python bench/fusion.py [--max-runs N] [--index-runs N] [--save HOME]
Writes bench/results/fusion.{json,md}. --save writes a flowsleuth home (models + index).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import machine, write_results

from agent.fusion import Fusion, best_f1_threshold
from agent.settings import Settings
from agent.setup import Toolkit
from agent.triage import batch_sources
from workflows.baseline import BaselineProfile
from workflows.flowbench import require_root, run_files
from workflows.labels import binary_label
from workflows.loader import load_run
from workflows.splits import split_of_runs

WORKFLOWS = ("1000-genome", "montage", "predict-future-sales")


def _metrics(score: np.ndarray, y: np.ndarray, t: float) -> dict[str, float]:
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    ok = ~np.isnan(score)
    pred = score[ok] >= t
    return {
        "f1": round(float(f1_score(y[ok], pred, zero_division=0)), 3),
        "precision": round(float(precision_score(y[ok], pred, zero_division=0)), 3),
        "recall": round(float(recall_score(y[ok], pred, zero_division=0)), 3),
        "auc": round(float(roc_auc_score(y[ok], score[ok])), 3) if len(set(y[ok])) > 1 else float("nan"),
        "coverage": round(float(ok.mean()), 3),
    }


def _table(kit: Toolkit, runs: list) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    frames, ys, wfs = [], [], []
    for run in runs:
        scores, _, _ = batch_sources(kit, kit.subject(run.without_labels()))
        frames.append(scores.reset_index(drop=True))
        ys.extend(run.labels.map(binary_label).tolist())
        wfs.extend([run.workflow] * len(run))
    return pd.concat(frames, ignore_index=True), np.asarray(ys), wfs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-runs", type=int, default=None, help="runs per workflow (stratified subsample)")
    ap.add_argument("--index-runs", type=int, default=12, help="train runs per workflow in the index")
    ap.add_argument("--no-knn", action="store_true", help="leave the kNN vote out (embedding is slow)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--save", type=Path, default=None, help="write the fitted home here")
    args = ap.parse_args()
    from retrieval import default_embedder, open_index
    from tools.classifier.tree import TreeScorer
    from tools.diagnosis import DiagnosisModel

    root = require_root()
    part: dict[str, list] = {"train": [], "validation": [], "test": []}
    for wf in WORKFLOWS:
        runs = [load_run(f) for f in run_files(wf, root)]
        if args.max_runs:
            keep = split_of_runs(
                runs, fractions=(args.max_runs / len(runs), 0.0, 1 - args.max_runs / len(runs))
            )
            runs = [r for r in runs if keep[r.run_id] == "train"]
        split = split_of_runs(runs, seed=args.seed)
        for r in runs:
            part[split[r.run_id]].append(r)
    t0 = time.perf_counter()
    baseline = BaselineProfile.fit(part["train"])
    tree = TreeScorer.fit(part["train"], part["validation"], baseline=baseline, name="tree-flowbench")
    t_tree = time.perf_counter() - t0
    diag = DiagnosisModel.fit(part["train"], part["validation"], baseline=baseline)
    t_diag = time.perf_counter() - t0 - t_tree
    home = args.save or Path(tempfile.mkdtemp(prefix="fusion-home-"))
    index = None
    rng = np.random.default_rng(args.seed)
    indexed = []
    if not args.no_knn:
        index = open_index(home / "index", create=True)
        for wf in WORKFLOWS:
            pool = [r for r in part["train"] if r.workflow == wf]
            picks = rng.choice(len(pool), min(args.index_runs, len(pool)), replace=False)
            indexed += [pool[i] for i in sorted(picks)]
        index.add_runs(indexed, default_embedder())
    t_index = time.perf_counter() - t0 - t_tree - t_diag
    kit = Toolkit(
        settings=Settings(home=home), models={"tree": tree}, index=index, diagnosis=diag, baseline=baseline
    )

    val_x, val_y, _ = _table(kit, part["validation"])
    test_x, test_y, test_wf = _table(kit, part["test"])
    fusion = Fusion.fit(val_x, pd.Series(val_y))
    rows = []
    test_wf_arr = np.asarray(test_wf)
    for wf in (*WORKFLOWS, "all"):
        mask = np.ones(len(test_y), bool) if wf == "all" else test_wf_arr == wf
        for src in test_x.columns:
            own = _metrics(test_x.loc[mask, src].to_numpy(float), test_y[mask], 0.5)
            t_val = best_f1_threshold(val_x[src].to_numpy(float), val_y)
            tuned = _metrics(test_x.loc[mask, src].to_numpy(float), test_y[mask], t_val)
            rows.append({"workflow": wf, "source": src, "threshold": 0.5, **own})
            rows.append({"workflow": wf, "source": f"{src} (val-tuned)", "threshold": t_val, **tuned})
        fused = fusion.predict_frame(test_x.loc[mask])
        rows.append(
            {
                "workflow": wf,
                "source": "FUSED",
                "threshold": fusion.threshold,
                **_metrics(fused, test_y[mask], fusion.threshold),
            }
        )
    if args.save:
        models = args.save / "models"
        models.mkdir(parents=True, exist_ok=True)
        tree.save(models / "tree")
        diag.save(models / "diagnosis")
        baseline.save(models / "baseline.json")
        fusion.save(models / "fusion.json")
    meta = {
        **machine(),
        "runs": {k: len(v) for k, v in part.items()},
        "jobs": {"validation": len(val_y), "test": len(test_y)},
        "indexed_runs": len(indexed) if index is not None else "kNN left out (--no-knn)",
        "max_runs_per_workflow": args.max_runs,
        "fit_seconds": {"tree": round(t_tree, 1), "diagnosis": round(t_diag, 1), "index": round(t_index, 1)},
        "fusion_threshold": fusion.threshold,
        "protocol": "split by whole runs 60/20/20, fusion fitted on validation jobs, measured on test jobs",
    }
    write_results("fusion", rows, meta, "Score fusion vs. each source alone (test runs, split by runs)")


if __name__ == "__main__":
    main()
