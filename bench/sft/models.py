"""`python -m bench.sft --part sft`: fine-tuned MiniLM on paper vs enriched sentences, both splits,
multi-class, transfer between workflows and online (prefix) detection."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.metrics import evaluate_scores
from flowsleuth.tools.classifier.scorer import predict_classes
from flowsleuth.tools.classifier.sft import SFTScorer
from flowsleuth.tools.classifier.sft_train import TrainConfig
from flowsleuth.tools.classifier.tasks import Task
from rich.console import Console

from bench.sft.data import Split, TextSource, subsample_keys

console = Console()


def fit(
    tx: TextSource,
    sp: Split,
    template: str,
    n: tuple[int | None, int],
    cfg: TrainConfig | None = None,
    init: SFTScorer | None = None,
    task: Task = "binary",
) -> SFTScorer:
    texts, raw = tx.get(subsample_keys(sp.keys["train"], n[0], seed=42), template)
    vt, vr = tx.get(subsample_keys(sp.keys["validation"], n[1], seed=42), template)
    return SFTScorer.fit_texts(
        texts,
        raw,
        vt,
        vr,
        task=task,
        template=template,
        backbone=None,
        init=init,
        calibration="temperature",
        config=cfg or TrainConfig(progress=False),
        name=f"sft-{template}" + ("" if task == "binary" else f"-{task}"),
    )


def test(model: SFTScorer, texts: list[str], raw: list[str]) -> tuple[dict[str, Any], float]:
    """Binary metrics on test texts, and scoring throughput (jobs/s, texts pre-rendered)."""
    t0 = time.perf_counter()
    m = model.meta
    probs = m.calibration.probs(model.logits(texts))
    score = m.calibration.score(probs)
    rate = len(texts) / (time.perf_counter() - t0)
    pred = predict_classes(probs, score, m.labels, m.calibration.threshold)
    ev = evaluate_scores(
        pd.DataFrame({"score": score, "pred_class": pred}),
        pd.Series(raw),
        m.task,
        m.labels,
        m.calibration.threshold,
    )
    return ev, round(rate, 1)


def online(model: SFTScorer, texts: list[str], raw: list[str]) -> list[dict[str, Any]]:
    """Share of jobs labelled right from the first k features of the sentence."""
    y = np.array([r != "None" for r in raw])
    right_by = np.zeros(len(texts), dtype=bool)
    rows = []
    for k in range(1, 10):
        prefix = [" ".join(t.split(" ")[: 3 * k]) + " " for t in texts]
        pred = model.score_texts(prefix) >= model.meta.calibration.threshold
        right_by |= pred == y
        rows.append(
            {
                "features": k,
                "right_at_k": round(float((pred == y).mean()), 4),
                "right_by_k": round(float(right_by.mean()), 4),
            }
        )
    return rows


def run_sft(
    splits: dict[str, dict[str, Split]],
    txs: dict[str, TextSource],
    n_train: int | None,
    n_val: int,
    n_test: int | None,
    base: TrainConfig,
    multiclass: bool = False,
    templates: tuple[str, ...] = ("paper", "enriched"),
    rows_jsonl: Path | None = None,
) -> dict[str, Any]:
    """Fit and test every (workflow, split, input) model. ``rows_jsonl`` gets one JSON line per
    finished model at once, so a run cut by a time limit keeps what it finished."""
    rows, transfer, paper_models = [], [], {}
    exp: dict[str, Any] = {}
    for wf, by in splits.items():
        for split_name, sp in by.items():
            test_keys = subsample_keys(sp.keys["test"], n_test, seed=0)
            variants: list[tuple[str, Task]] = [(t, "binary") for t in templates]
            if multiclass:
                variants.append(("enriched", "multiclass"))
            for template, task in variants:
                model = fit(txs[wf], sp, template, (n_train, n_val), base, task=task)
                ev, rate = test(model, *txs[wf].get(test_keys, template))
                e2e = None
                runs = sp.runs["test"] if split_name == "run" else by.get("run", sp).runs["test"]
                if runs:  # Flow-Bench runs at hand: time rendering + scoring of one whole run
                    t0 = time.perf_counter()
                    n_jobs = len(model.score_runs([runs[0]]))
                    e2e = round(n_jobs / (time.perf_counter() - t0), 1)
                log = model.meta.params["train_log"]
                rows.append(
                    {
                        "workflow": wf,
                        "split": split_name,
                        "scorer": model.name,
                        "train_rows": model.meta.n_train_rows,
                        "val_rows": model.meta.n_val_rows,
                        "epochs": round(base.epochs * log["steps_run"] / log["steps"], 2),
                        "best_epoch": round(base.epochs * log["best_step"] / log["steps"], 2),
                        "train_s": model.meta.train_seconds,
                        "device": base.device,
                        "jobs_per_s": e2e,
                        "jobs_per_s_prerendered": rate,
                        **ev,
                    }
                )
                if rows_jsonl is not None:
                    with rows_jsonl.open("a") as f:
                        f.write(json.dumps(rows[-1], default=str) + "\n")
                console.print(
                    f"{wf} {split_name} {model.name}: {ev} {model.meta.train_seconds} s", highlight=False
                )
                if split_name == "paper" and template == "paper" and task == "binary":
                    paper_models[wf] = (model, test_keys)
    for src, (model, _) in paper_models.items():
        for dst, (_, keys) in paper_models.items():
            if dst != src:
                ev, _ = test(model, *txs[dst].get(keys, "paper"))
                transfer.append({"train": src, "test": dst, "scorer": "sft-paper", **ev})
    if not paper_models:  # online detection needs a paper-split model
        return {"rows": rows, "transfer": transfer, "experiments": exp, "config": dataclasses.asdict(base)}
    wf0 = next(iter(paper_models))
    model, keys = paper_models[wf0]
    texts, raw = txs[wf0].get(subsample_keys(keys, 2000, seed=1), "paper")
    exp["Online detection (SFT, paper sentences)"] = {
        "protocol": f"{wf0}, model trained on the paper split ({model.meta.n_train_rows} rows, "
        f"{base.epochs} epoch(s) at most); {len(texts)} test jobs; the sentence cut after its first k "
        "features; 'right by k' = the label was right at some prefix of length <= k (the paper's "
        "first-right prefix).",
        "rows": online(model, texts, raw),
    }
    return {"rows": rows, "transfer": transfer, "experiments": exp, "config": dataclasses.asdict(base)}
