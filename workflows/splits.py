"""Train / validation / test splits.

* :func:`paper_split`: the SC'24 paper's split, rebuilt as a multiset. Test and validation are the
  paper's published (text, label) rows; train is everything else.
* :func:`run_split`: whole runs held out, stratified by (workflow, injected anomaly). This is
  what triaging a new run looks like, so every result is reported on it too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from flowsleuth.workflows.labels import binary_label
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sentence import render_frame

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class PaperSplitResult:
    assignment: pd.DataFrame  # columns: run_id, node_id, text, label, split
    unmatched: dict[str, int]  # split -> published rows not found among the jobs (should be 0)


def labelled_sentences(runs: Iterable[Run]) -> pd.DataFrame:
    """One row per labelled job: run_id, node_id, text (paper sentence), label (0/1)."""
    parts = []
    for run in runs:
        if run.labels is None:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "run_id": run.run_id,
                    "node_id": run.frame.index.astype(str),
                    "text": render_frame(run.frame).to_numpy(),
                    "label": run.labels.map(binary_label).to_numpy(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["run_id", "node_id", "text", "label"])
    return pd.concat(parts, ignore_index=True)


def paper_split(sentences: pd.DataFrame, test: pd.DataFrame, validation: pd.DataFrame) -> PaperSplitResult:
    """Assign each job to the paper's split. Identical (text, label) rows are interchangeable,
    so the first jobs (in the given order) with a published pair take it."""
    remaining = {
        "test": Counter(zip(test["text"], test["label"].astype(int), strict=True)),
        "validation": Counter(zip(validation["text"], validation["label"].astype(int), strict=True)),
    }
    split = []
    for key in zip(sentences["text"], sentences["label"].astype(int), strict=True):
        for name in ("test", "validation"):
            if remaining[name][key] > 0:
                remaining[name][key] -= 1
                split.append(name)
                break
        else:
            split.append("train")
    out = sentences.assign(split=split)
    unmatched = {name: sum(c.values()) for name, c in remaining.items()}
    return PaperSplitResult(out, unmatched)


def run_split(
    runs: Sequence[tuple[str, str, str | None]],
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 42,
) -> dict[str, str]:
    """Split whole runs. ``runs`` holds (run_id, workflow, injected); returns run_id -> split.

    Deterministic for a seed, and stratified by (workflow, injected): every stratum is shuffled
    and cut by the cumulative fractions, so each split sees every kind of run where possible.
    """
    if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    strata: dict[tuple[str, str], list[str]] = {}
    for run_id, workflow, injected in runs:
        strata.setdefault((workflow, injected or "?"), []).append(run_id)
    rng = np.random.default_rng(seed)
    out: dict[str, str] = {}
    for key in sorted(strata):
        ids = sorted(strata[key])
        order = rng.permutation(len(ids))
        cuts = np.round(np.cumsum(fractions)[:2] * len(ids)).astype(int)
        for pos, idx in enumerate(order):
            out[ids[idx]] = SPLITS[int(np.searchsorted(cuts, pos, side="right"))]
    return out


def split_of_runs(runs: Iterable[Run], **kwargs: object) -> dict[str, str]:
    """:func:`run_split` over loaded runs."""
    return run_split([(r.run_id, r.workflow, r.injected) for r in runs], **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class WorkflowSplit:
    """Leave-one-workflow-out: train on every run of the other workflows, test on ``held_out``."""

    held_out: str
    train: frozenset[str]
    test: frozenset[str]


def lowo_split(runs: Iterable[tuple[str, str]], held_out: str) -> WorkflowSplit:
    """Split (run_id, workflow) pairs by workflow. Raises when the held-out workflow has no run,
    or a run id appears under two workflows (it would reach its own training)."""
    seen: dict[str, str] = {}
    for run_id, workflow in runs:
        if seen.setdefault(run_id, workflow) != workflow:
            raise ValueError(f"run {run_id!r} appears under workflows {seen[run_id]!r} and {workflow!r}")
    test = frozenset(r for r, w in seen.items() if w == held_out)
    if not test:
        raise ValueError(f"no run of the held-out workflow {held_out!r}")
    return WorkflowSplit(held_out, frozenset(seen) - test, test)
