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

from dataclasses import replace
from typing import Literal

import numpy as np
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
