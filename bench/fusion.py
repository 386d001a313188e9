"""Score fusion on the split by whole runs: each source alone vs. the fused score.

Protocol: for every workflow the runs are split 60/20/20 by whole runs (stratified by the
injected anomaly, seed 42). One tree scorer, one run-diagnosis model and one job index are
built on the TRAIN runs of all three workflows (as the product would be); the tree early-stops
and calibrates on the VALIDATION runs. Each source scores every job of the validation and TEST
runs; the fusion (per-subset logistic regression plus an F1-best threshold) is fitted on
validation jobs only, once pooled over the workflows and once per workflow, and measured on
test jobs. Sources alone are measured at their own threshold (0.5) AND at an F1-best threshold
picked on validation, pooled and per workflow, so fusion is compared with the strongest version
of each source. Nothing is measured on runs used to fit or tune it.

Usage: .venv/bin/python -m bench.fusion [--max-runs N] [--index-runs N] [--no-knn] [--save HOME]
Writes bench/results/<--name, default fusion>.{json,md}. --save writes a flowsleuth home.
scripts/build_models.py reuses this pipeline to build the models shipped in tools/pretrained/.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from flowsleuth.cli.app.settings import Settings
from flowsleuth.cli.app.toolkit import Toolkit
from flowsleuth.tools.classifier.calibration import best_f1_threshold
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.registry import default_registry
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.flowbench import require_root, run_files
from flowsleuth.workflows.labels import binary_label
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.splits import split_of_runs

from bench._common import command, machine, write_results

WORKFLOWS = ("1000-genome", "montage", "predict-future-sales")


@dataclass
class Table:
    """Every source's score for the jobs of some runs, with their labels and workflows."""

    x: pd.DataFrame
    y: np.ndarray
    wf: np.ndarray
    run: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)


def load_parts(max_runs: int | None, seed: int, exclude: Collection[str] = ()) -> dict[str, list[Run]]:
    """Runs of each split (by whole runs); ``exclude`` drops run ids before anything else."""
    root = require_root()
    part: dict[str, list[Run]] = {"train": [], "validation": [], "test": []}
    for wf in WORKFLOWS:
        runs = [load_run(f) for f in run_files(wf, root) if f.stem not in exclude]
        if max_runs:
            keep = split_of_runs(runs, fractions=(max_runs / len(runs), 0.0, 1 - max_runs / len(runs)))
            runs = [r for r in runs if keep[r.run_id] == "train"]
        split = split_of_runs(runs, seed=seed)
        for r in runs:
            part[split[r.run_id]].append(r)
    return part


def _metrics(score: np.ndarray, y: np.ndarray, t: float | np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    ok = ~np.isnan(score)
    if not ok.any():
        return {"f1": float("nan"), "coverage": 0.0}
    pred = score[ok] >= (t[ok] if isinstance(t, np.ndarray) else t)
    return {
        "f1": round(float(f1_score(y[ok], pred, zero_division=0)), 3),
        "precision": round(float(precision_score(y[ok], pred, zero_division=0)), 3),
        "recall": round(float(recall_score(y[ok], pred, zero_division=0)), 3),
        "auc": round(float(roc_auc_score(y[ok], score[ok])), 3) if len(set(y[ok])) > 1 else float("nan"),
        "coverage": round(float(ok.mean()), 3),
    }


def score_table(kit: Toolkit, runs: list[Run]) -> Table:
    """Score every job of ``runs`` with every source; the kNN vote is timed on its own."""
    from flowsleuth.retrieval import vote_run

    frames, ys, wfs, ids = [], [], [], []
    seconds = {"sources": 0.0, "knn": 0.0}
    plain = Toolkit(
        settings=kit.settings,
        registry=kit.registry,
        models=kit.models,
        diagnosis=kit.diagnosis,
        baseline=kit.baseline,
    )
    for run in runs:
        t0 = time.perf_counter()
        scores = plain.deps(run.without_labels()).scores.source_frame()
        seconds["sources"] += time.perf_counter() - t0
        if kit.index is not None:
            t0 = time.perf_counter()
            votes = vote_run(kit.index, kit.subject(run.without_labels()))
            scores["knn_vote"] = [v.score if (v := votes.get(j)) else np.nan for j in run.job_ids]
            seconds["knn"] += time.perf_counter() - t0
        frames.append(scores.reset_index(drop=True))
        ys.extend(run.labels.map(binary_label).tolist())
        wfs.extend([run.workflow] * len(run))
        ids.extend([run.run_id] * len(run))
    x = pd.concat(frames, ignore_index=True)
    secs = {k: round(v, 1) for k, v in seconds.items()}
    return Table(x, np.asarray(ys), np.asarray(wfs), np.asarray(ids), secs)


def compare(val: Table, test: Table, fusion: Fusion) -> list[dict[str, Any]]:
    """Rows per workflow and pooled: each source alone, the pooled and the per-workflow fusion."""
    pooled = fusion.model_copy(update={"workflows": {}})
    val_t = {
        src: (
            best_f1_threshold(val.x[src].to_numpy(float), val.y),
            {
                wf: best_f1_threshold(val.x.loc[val.wf == wf, src].to_numpy(float), val.y[val.wf == wf])
                for wf in WORKFLOWS
            },
        )
        for src in test.x.columns
    }
    rows: list[dict[str, Any]] = []
    for wf in (*WORKFLOWS, "all"):
        mask = np.ones(len(test.y), bool) if wf == "all" else test.wf == wf
        if not mask.any():  # a small --max-runs can leave a workflow without test runs
            continue
        y, x, wfs = test.y[mask], test.x.loc[mask], test.wf[mask]

        def row(
            source: str, score: np.ndarray, t: float | np.ndarray, wf: str = wf, y: np.ndarray = y
        ) -> None:
            flat = np.atleast_1d(t)
            shown: float | str = round(float(flat[0]), 2) if np.ptp(flat) == 0 else "per workflow"
            rows.append({"workflow": wf, "source": source, "threshold": shown, **_metrics(score, y, t)})

        for src in test.x.columns:
            s = x[src].to_numpy(float)
            t_pool, t_wf = val_t[src]
            row(src, s, 0.5)
            row(f"{src} (val-tuned pooled)", s, t_pool)
            row(f"{src} (val-tuned per wf)", s, np.array([t_wf[w] for w in wfs]))
        row("FUSED pooled", pooled.predict_frame(x), pooled.threshold)
        row(
            "FUSED per workflow", fusion.predict_frame_by_workflow(x, wfs), fusion.thresholds_by_workflow(wfs)
        )
    return rows


def fit_sources(
    part: dict[str, list[Run]], home: Path, knn: bool, index_runs: int, seed: int
) -> tuple[Toolkit, dict[str, Any]]:
    """Baseline, tree and diagnosis on the train runs (tree tuned on validation); the index."""
    from flowsleuth.retrieval import default_embedder, open_index
    from flowsleuth.tools.classifier.tree import TreeScorer
    from flowsleuth.tools.diagnosis import DiagnosisModel

    t0 = time.perf_counter()
    baseline = BaselineProfile.fit(part["train"])
    tree = TreeScorer.fit(part["train"], part["validation"], baseline=baseline, name="tree-flowbench")
    t_tree = time.perf_counter() - t0
    diag = DiagnosisModel.fit(part["train"], part["validation"], baseline=baseline)
    t_diag = time.perf_counter() - t0 - t_tree
    index, indexed = None, []
    if knn:
        rng = np.random.default_rng(seed)
        index = open_index(home / "index", create=True)
        for wf in WORKFLOWS:
            pool = [r for r in part["train"] if r.workflow == wf]
            picks = rng.choice(len(pool), min(index_runs, len(pool)), replace=False)
            indexed += [pool[i] for i in sorted(picks)]
        index.add_runs(indexed, default_embedder())
    t_index = time.perf_counter() - t0 - t_tree - t_diag
    kit = Toolkit(
        settings=Settings(home=home),
        registry=default_registry(),
        models={"tree": tree},
        index=index,
        diagnosis=diag,
        baseline=baseline,
    )
    info = {
        "indexed_runs": len(indexed) if knn else "kNN left out (--no-knn)",
        "indexed_jobs": sum(len(r) for r in indexed),
        "fit_seconds": {"tree": round(t_tree, 1), "diagnosis": round(t_diag, 1), "index": round(t_index, 1)},
    }
    return kit, info


def save_models(kit: Toolkit, fusion: Fusion, models: Path) -> None:
    """The layout ``load_toolkit`` reads: tree/, diagnosis/, baseline.json, fusion.json."""
    models.mkdir(parents=True, exist_ok=True)
    kit.models["tree"].save(models / "tree")
    kit.diagnosis.save(models / "diagnosis")
    assert kit.baseline is not None
    kit.baseline.save(models / "baseline.json")
    fusion.save(models / "fusion.json")


def run_pipeline(args: argparse.Namespace, exclude: Collection[str] = ()) -> dict[str, Any]:
    """Load, fit, score, fuse and compare; returns everything the callers write."""
    part = load_parts(args.max_runs, args.seed, exclude)
    home = getattr(args, "save", None) or Path(tempfile.mkdtemp(prefix="fusion-home-"))
    kit, info = fit_sources(part, home, not args.no_knn, args.index_runs, args.seed)
    val, test = score_table(kit, part["validation"]), score_table(kit, part["test"])
    if args.dump:
        pd.to_pickle({"validation": val, "test": test}, args.dump)
    fusion = Fusion.fit(val.x, pd.Series(val.y), workflows=list(val.wf), runs=list(val.run))
    meta = {
        **machine(),
        "runs": {k: len(v) for k, v in part.items()},
        "jobs": {"validation": len(val.y), "test": len(test.y)},
        "max_runs_per_workflow": args.max_runs,
        **info,
        "score_seconds": {"validation": val.seconds, "test": test.seconds},
        "fusion_thresholds": {
            "pooled": fusion.threshold,
            **{w: f.threshold for w, f in fusion.workflows.items()},
        },
        "protocol": "split by whole runs 60/20/20, fusion fitted on validation jobs, measured on test jobs",
    }
    return {"kit": kit, "fusion": fusion, "part": part, "rows": compare(val, test, fusion), "meta": meta}


def arguments(doc: str | None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-runs", type=int, default=None, help="runs per workflow (stratified subsample)")
    ap.add_argument("--index-runs", type=int, default=12, help="train runs per workflow in the index")
    ap.add_argument("--no-knn", action="store_true", help="leave the kNN vote out (embedding is slow)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dump", type=Path, default=None, help="pickle the score tables here")
    return ap


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--save", type=Path, default=None, help="write the fitted home here")
    ap.add_argument("--name", default="fusion", help="results file name under bench/results/")
    args = ap.parse_args()
    out = run_pipeline(args)
    if args.save:
        save_models(out["kit"], out["fusion"], args.save / "models")
    cmd = command()
    write_results(
        args.name,
        out["rows"],
        {"command": cmd, **out["meta"]},
        "Score fusion vs. each source alone (test runs, split by runs)",
    )


if __name__ == "__main__":
    main()
