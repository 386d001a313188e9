"""The small tree model for the bundled demo, trained on the bundled sample runs only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from flowsleuth.tools.classifier.tree import TreeScorer
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_runs


def train_default_tree(out_dir: str | Path, seed: int = 42, runs: Sequence[Run] | None = None) -> TreeScorer:
    """Train a multi-class tree scorer on the bundled sample (seconds) and save it to ``out_dir``.

    Jobs are split 75 / 25 at random for training and calibration: the sample is too small for
    a split by runs. It is a demo model, not a benchmark (see bench/sft/ for honest numbers).
    """
    runs = list(runs) if runs is not None else [load_run(p) for p in sample_runs()]
    rng = np.random.default_rng(seed)
    train: set[tuple[str, str]] = set()
    val: set[tuple[str, str]] = set()
    for run in runs:
        for job in run.job_ids:
            (val if rng.random() < 0.25 else train).add((run.run_id, job))
    scorer = TreeScorer.fit(
        runs,
        runs,
        train_keys=train,
        val_keys=val,
        baseline=BaselineProfile.fit(runs),
        max_rounds=300,
        seed=seed,
        name="tree-demo",
    )
    scorer.save(out_dir)
    return scorer
