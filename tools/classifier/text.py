"""The SFT scorer's inputs: the paper's sentence (byte-exact) or that sentence enriched with
short phrases carrying the job's run context."""

from __future__ import annotations

import math

import pandas as pd
from flowsleuth.workflows.context import run_context
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sentence import TEMPLATE_VERSION, render_frame

ENRICHED_VERSION = "enriched-v1"
TEMPLATES: dict[str, str] = {"paper": TEMPLATE_VERSION, "enriched": ENRICHED_VERSION}

# context column -> phrase name; few and short, since every token costs CPU time
_PHRASES: dict[str, str] = {
    "runtime_ratio": "runtime_vs_median",
    "cpu_time_ratio": "cpu_time_vs_median",
    "stage_in_delay_ratio": "stage_in_vs_median",
    "host_runtime_vs_peers": "host_runtime_vs_peers",
    "host_iowait_vs_peers": "host_iowait_vs_peers",
    "host_read_bps_vs_peers": "host_read_bps_vs_peers",
    "host_stage_in_bps_vs_peers": "host_stage_in_bps_vs_peers",
}


def _short(v: float) -> str:
    return "nan" if math.isnan(v) else f"{v:.2g}"


def enrich(sentences: pd.Series, context: pd.DataFrame) -> pd.Series:
    """Append ``name is value `` phrases (two significant digits) to each sentence."""
    cols = [c for c in _PHRASES if c in context.columns]
    values = context.loc[sentences.index, cols].to_numpy(dtype=float)
    extra = [
        "".join(f"{_PHRASES[c]} is {_short(v)} " for c, v in zip(cols, row, strict=True)) for row in values
    ]
    return pd.Series([s + e for s, e in zip(sentences, extra, strict=True)], index=sentences.index)


def render_inputs(run: Run, template: str) -> pd.Series:
    """One input text per job of ``run`` (same index) for ``template`` ('paper' or 'enriched')."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; choose from {sorted(TEMPLATES)}")
    sentences = render_frame(run.frame)
    if template == "paper":
        return sentences
    return enrich(sentences, run_context(run))
