"""`python -m bench.sft --part trees`: LightGBM with and without run context, both splits, transfer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flowsleuth.tools.classifier.metrics import evaluate_scores
from flowsleuth.tools.classifier.tree import TreeScorer
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.models import Run
from rich.console import Console

from bench.sft.data import Split, restrict, truth

console = Console()


def _baseline(sp: Split) -> BaselineProfile:
    """Normal-run profile from *training jobs only* (the paper split shares runs with test)."""
    return BaselineProfile.fit(
        restrict(r, sp.keys["train"]) for r in sp.runs["train"] if r.injected == "None"
    )


def _test(model: TreeScorer, runs: list[Run], keys: set | None, cache: dict) -> dict[str, Any]:
    runs = [r for r in runs if keys is None or any((r.run_id, j) in keys for j in r.job_ids)]
    scores = model.score_runs(runs, feature_cache=cache)
    if keys is not None:
        scores = scores[[(r, n) in keys for r, n in zip(scores.run_id, scores.node_id, strict=True)]]
    m = model.meta
    return evaluate_scores(scores, truth(scores, runs), m.task, m.labels, m.calibration.threshold)


def _throughput(model: TreeScorer, runs: list[Run]) -> float:
    """Jobs/s of score_runs from raw runs (no cache): features, context and prediction."""
    sample = runs[:10]
    t0 = time.perf_counter()
    n = len(model.score_runs(sample))
    return round(n / (time.perf_counter() - t0), 1)


def run_trees(
    splits: dict[str, dict[str, Split]], save: Path | None, max_train: int | None
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    models: dict[tuple[str, str], TreeScorer] = {}
    caches: dict[str, dict] = {wf: {} for wf in splits}
    for wf, by_name in splits.items():
        for split_name, sp in by_name.items():
            variants = [("tree-paper", "paper", "weights"), ("tree-context", "context", "weights")]
            if split_name == "run":  # bias mitigation ablation
                variants.append(("tree-context-unweighted", "context", "none"))
            for name, fs, balance in variants:
                base = _baseline(sp) if fs == "context" else None
                model = TreeScorer.fit(
                    sp.runs["train"],
                    sp.runs["validation"],
                    train_keys=sp.keys["train"],
                    val_keys=sp.keys["validation"],
                    feature_set=fs,
                    baseline=base,
                    balance=balance,
                    name=name,
                    feature_cache=caches[wf],
                    max_train=max_train,
                )
                keys = sp.keys["test"] if split_name == "paper" else None
                ev = _test(model, sp.runs["test"], keys, caches[wf])
                row = {
                    "workflow": wf,
                    "split": split_name,
                    "scorer": name,
                    "train_rows": model.meta.n_train_rows,
                    "epochs": "-",
                    "train_s": model.meta.train_seconds,
                    "rounds": model.meta.params["best_iteration"],
                    "jobs_per_s": _throughput(model, by_name["run"].runs["test"]),
                    **ev,
                }
                rows.append(row)
                models[(wf, f"{split_name}:{name}")] = model
                console.print(
                    f"{wf} {split_name} {name}: F1 {ev['f1']} AUC {ev['roc_auc']} "
                    f"macroF1 {ev['multiclass']['macro_f1']} ({row['train_s']} s)"
                )  # type: ignore[index]
    transfer = []
    for src in splits:
        model = models[(src, "run:tree-context")]
        for dst in splits:
            if dst != src:
                ev = _test(model, splits[dst]["run"].runs["test"], None, caches[dst])
                transfer.append({"train": src, "test": dst, "scorer": "tree-context", **ev})
    if save is not None:
        best = max(
            (m for k, m in models.items() if k[1] == "run:tree-context"), key=lambda m: m.meta.n_train_rows
        )
        best.save(save)
        console.print(f"saved {best.name} ({best.meta.n_train_rows} rows) to {save}")
    return {
        "rows": rows,
        "transfer": transfer,
        "calibration": {
            f"{wf} {k}": m.meta.calibration.model_dump(
                include={"method", "temperature", "threshold", "ece_before", "ece_after"}
            )
            for (wf, k), m in models.items()
            if k.endswith("tree-context")
        },
    }
