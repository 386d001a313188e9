"""``flowsleuth train`` and ``flowsleuth eval``: fit a scorer on labelled runs, measure one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import typer
from flowsleuth.cli.errors import handle_errors
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.loader import load_runs
from flowsleuth.workflows.models import Run
from rich.console import Console
from rich.table import Table


def _labelled(path: Path) -> list[Run]:
    runs = [r for r in load_runs(path) if r.labels is not None]
    if not runs:
        raise FlowsleuthError(f"{path}: no labelled runs (an anomaly_type column is needed)")
    return runs


def _choose(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise FlowsleuthError(f"--{option} {value!r} is not one of {', '.join(allowed)}")


def _metrics_table(title: str, rows: dict[str, dict]) -> Table:
    t = Table(title=title, title_justify="left")
    cols = ("n", "accuracy", "f1", "precision", "recall", "roc_auc")
    t.add_column("rows")
    for c in cols:
        t.add_column(c, justify="right")
    for name, m in rows.items():
        t.add_row(name, *(str(m.get(c, "-")) for c in cols))
    return t


@handle_errors
def train(
    data: Path = typer.Argument(..., help="Labelled runs: a run CSV directory or a .zip."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write the model to."),
    scorer: str = typer.Option("tree", help="tree (LightGBM, fast) or sft (fine-tuned encoder)."),
    task: str = typer.Option("multiclass", help="binary, kind (None/cpu/hdd) or multiclass."),
    template: str | None = typer.Option(
        None,
        help="SFT input: enriched (paper sentence + run-context phrases), compact (the same numbers, "
        "~2.5x fewer tokens), short (~4x fewer: one-token names, missing values left out) or paper. "
        "Default: enriched; short with --adapter.",
    ),
    adapter: bool = typer.Option(
        False,
        "--adapter",
        help="SFT: train a LoRA adapter (a few MB) on the frozen packaged backbone instead of "
        "every weight; put it (or a set of them) in <home>/models/sft.",
    ),
    lora_r: int = typer.Option(8, help="SFT --adapter: LoRA rank."),
    features: str = typer.Option("context", help="Tree features: context or paper."),
    backbone: str | None = typer.Option(None, help="SFT encoder path; default packaged MiniLM."),
    max_train: int | None = typer.Option(None, help="Subsample this many training rows."),
    max_val: int = typer.Option(1000, help="SFT: subsample this many validation rows."),
    rounds: int = typer.Option(2000, help="Trees: most boosting rounds (early stopping on validation)."),
    epochs: float = typer.Option(1.0, help="SFT epochs."),
    batch_size: int = typer.Option(16, help="SFT batch size."),
    lr: float | None = typer.Option(None, help="SFT learning rate (default 5e-5; 5e-4 with --adapter)."),
    balance: str = typer.Option("weights", help="Class imbalance: weights, oversample (sft), none."),
    calibration: str = typer.Option("temperature", help="temperature, isotonic or none."),
    seed: int = typer.Option(42, help="Seed for the split, sampling and training."),
    device: str = typer.Option("auto", help="SFT device: auto (CUDA when present), cpu or cuda."),
) -> None:
    """Train a scorer. Runs are split by whole runs 60/20/20; the test runs are scored last."""
    from flowsleuth.tools.classifier.metrics import evaluate_scores
    from flowsleuth.workflows.baseline import BaselineProfile
    from flowsleuth.workflows.splits import split_of_runs

    runs = _labelled(data)
    split = split_of_runs(runs, seed=seed)
    part = {s: [r for r in runs if split[r.run_id] == s] for s in ("train", "validation", "test")}
    if not part["train"] or not part["validation"]:
        raise FlowsleuthError(f"{data}: too few runs to split into train and validation ({len(runs)} runs)")
    if adapter and scorer != "sft":
        raise FlowsleuthError("--adapter trains an SFT adapter: use it with --scorer sft")
    _choose("task", task, ("binary", "kind", "multiclass"))
    _choose("calibration", calibration, ("temperature", "isotonic", "none"))
    _choose("device", device, ("auto", "cpu", "cuda"))
    _choose(
        "balance", balance, ("weights", "none") if scorer == "tree" else ("weights", "oversample", "none")
    )
    model: Any
    if scorer == "tree":
        from flowsleuth.tools.classifier.tree import TreeScorer

        model = TreeScorer.fit(
            part["train"],
            part["validation"],
            task=cast(Any, task),
            feature_set=features,
            baseline=BaselineProfile.fit(part["train"]) if features == "context" else None,
            balance=cast(Any, balance),
            calibration=cast(Any, calibration),
            max_train=max_train,
            max_rounds=rounds,
            seed=seed,
        )
    elif scorer == "sft":
        from flowsleuth.cli.app.settings import load_settings
        from flowsleuth.tools.classifier.sft import SFTScorer
        from flowsleuth.tools.classifier.sft_adapter import LoraSpec
        from flowsleuth.tools.classifier.sft_train import TrainConfig

        cfg = TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr if lr is not None else (5e-4 if adapter else 5e-5),
            balance=cast(Any, balance),
            seed=seed,
            device=cast(Any, device),
            threads=load_settings().threads,  # FLOWSLEUTH_THREADS / config file
        )
        model = SFTScorer.fit(
            part["train"],
            part["validation"],
            task=cast(Any, task),
            template=template or ("short" if adapter else "enriched"),
            backbone=backbone,
            adapter=LoraSpec(r=lora_r, alpha=2 * lora_r) if adapter else None,
            max_train=max_train,
            max_val=max_val,
            calibration=cast(Any, calibration),
            config=cfg,
        )
    else:
        raise FlowsleuthError(f"unknown scorer {scorer!r}; choose tree or sft")
    rows = {"validation": model.meta.metrics}
    if part["test"]:
        scores = model.score_runs(part["test"])
        truth = [v for r in part["test"] for v in r.labels]  # type: ignore[union-attr]
        import pandas as pd

        test = evaluate_scores(
            scores, pd.Series(truth), model.meta.task, model.meta.labels, model.meta.calibration.threshold
        )
        model.meta.metrics = {**model.meta.metrics, "test": test}
        rows["test (unseen runs)"] = test
    model.save(out)
    console = Console()
    console.print(_metrics_table(f"{model.name}: {model.meta.n_train_rows} training rows", rows))
    console.print(f"saved to {out}")


@handle_errors
def evaluate(
    model_dir: Path = typer.Argument(..., help="A model directory written by flowsleuth train."),
    data: Path = typer.Argument(..., help="Labelled runs to evaluate on."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the metrics as JSON."),
) -> None:
    """Evaluate a saved scorer on labelled runs (for the full benchmark run bench/sft.py)."""
    import pandas as pd
    from flowsleuth.tools.classifier.metrics import evaluate_scores
    from flowsleuth.tools.classifier.scorer import load_scorer

    model = load_scorer(model_dir)
    runs = _labelled(data)
    scores = model.score_runs(runs)
    truth = pd.Series([v for r in runs for v in r.labels])  # type: ignore[union-attr]
    m = evaluate_scores(scores, truth, model.meta.task, model.meta.labels, model.meta.calibration.threshold)
    Console().print(_metrics_table(f"{model.name} on {data}", {"all jobs": m}))
    if "multiclass" in m:
        Console().print(f"macro-F1 {m['multiclass']['macro_f1']}")  # type: ignore[index]
    if json_out is not None:
        json_out.write_text(json.dumps({"model": model.name, "data": str(data), **m}, indent=1))


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``eval`` as top-level commands of ``app``."""
    app.command("train")(train)
    app.command("eval")(evaluate)
