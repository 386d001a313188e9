"""Feature variants by what the input carries, chosen from the columns present.

A Flow-Bench CSV carries everything: stage-in/out timings and bytes and Panorama's
``kickstart_online_*`` counters. A real Pegasus run (stampede DB + kickstart records) carries none
of those; its kickstart records do carry per-job ``usage`` (utime, stime, …). So:

* ``full``: every column (the shipped default models).
* ``portable``: what a stampede DB gives: job-state delays, runtime, CPU time, host, type.
* ``portable+usage``: portable plus user/system CPU seconds. From Flow-Bench these are
  ``kickstart_online_utime``/``stime``; from a Pegasus submit directory, the kickstart records'
  ``mainjob.usage`` utime/stime stand in for them (both are the job process's CPU seconds, though
  measured by different monitors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.schema import EXTRA_NUMERIC, ONLINE_FEATURES, TIMESTAMPS

Variant = Literal["full", "portable", "portable+usage"]
VARIANTS: tuple[Variant, ...] = ("full", "portable", "portable+usage")

USAGE_EQUIVALENTS = {
    "kickstart_online_utime": "kickstart_usage_utime",
    "kickstart_online_stime": "kickstart_usage_stime",
}
NOT_IN_STAMPEDE: tuple[str, ...] = (
    "stage_in_delay",
    "stage_out_delay",
    "stage_in_bytes",
    "stage_out_bytes",
    *(c for c in TIMESTAMPS if c.startswith("stage_")),
    *(c for c in EXTRA_NUMERIC if c.startswith("stage_")),
    *ONLINE_FEATURES,
)


def _present(run: Run, column: str) -> bool:
    return column in run.frame.columns and bool(run.frame[column].notna().any())


def choose_variant(run: Run) -> tuple[Variant, str]:
    """The richest variant the run's columns support, and a one-line note saying which."""
    usage_only = set(USAGE_EQUIVALENTS)
    if any(_present(run, c) for c in NOT_IN_STAMPEDE if c not in usage_only):
        return "full", "features: full Flow-Bench set"
    if any(_present(run, c) or _present(run, u) for c, u in USAGE_EQUIVALENTS.items()):
        return "portable+usage", (
            "features: portable set + kickstart usage (no stage-in/out or kickstart_online_* "
            "columns in this input)"
        )
    return "portable", "features: portable set (stampede DB columns only; no kickstart usage)"


def feature_view(run: Run, variant: Variant) -> Run:
    """The run as a model of ``variant`` sees it: absent columns are NaN, usage fills utime/stime."""
    if variant == "full":
        return run
    frame = run.frame.copy()
    for c in NOT_IN_STAMPEDE:
        keep = variant == "portable+usage" and c in USAGE_EQUIVALENTS
        if keep:
            usage = USAGE_EQUIVALENTS[c]
            if usage in frame.columns and frame[usage].notna().any():
                frame[c] = frame[usage]
        elif c in frame.columns:
            frame[c] = np.nan
    return replace(run, frame=frame)


class _ViewScorer:
    """One model scoring runs as its feature variant sees them."""

    kind = "tree"

    def __init__(self, model: Any, variant: Variant):
        self.model, self.variant = model, variant
        self.meta, self.name = model.meta, model.name

    def score_runs(self, runs: Sequence[Run]) -> pd.DataFrame:
        return self.model.score_runs([feature_view(r, self.variant) for r in runs])

    def save(self, directory: str | Path) -> Path:
        return self.model.save(directory)


class VariantScorer:
    """A tree scorer per feature variant; each run is scored by the richest variant its columns
    support (:func:`choose_variant`). Flow-Bench runs keep the full model; a Pegasus run gets
    the portable model trained on exactly the columns a stampede DB (+ kickstart usage) gives."""

    kind = "tree"

    def __init__(self, full: Any, variants: dict[str, Any]):
        self.full = full
        self.variants = variants
        self.meta = full.meta
        self.name = full.name

    def variant_for(self, run: Run) -> tuple[Variant, str]:
        variant, note = choose_variant(run)
        if variant != "full" and variant not in self.variants:
            return "full", f"{note}; no {variant} model shipped, the full model scores it"
        if variant != "full":
            note += f"; scored by {self.variants[variant].name}"
        return variant, note

    def for_run(self, run: Run) -> Any:
        """The scorer for this run: the full model, or a portable one on its feature view."""
        variant, _ = self.variant_for(run)
        return self.full if variant == "full" else _ViewScorer(self.variants[variant], variant)

    def score_runs(self, runs: Sequence[Run]) -> pd.DataFrame:
        parts = [self.for_run(run).score_runs([run]) for run in runs]
        return pd.concat(parts) if parts else self.full.score_runs([])

    def save(self, directory: str | Path) -> Path:
        return self.full.save(directory)


def load_variants(directory: Path) -> dict[str, Any]:
    """The shipped portable models: ``<directory>/portable`` and ``<directory>/portable_usage``."""
    from flowsleuth.tools.classifier import load_scorer

    out: dict[str, Any] = {}
    for variant in ("portable", "portable+usage"):
        d = directory / variant.replace("+", "_")
        if (d / "meta.json").is_file():
            out[variant] = load_scorer(d)
    return out
