"""The SFT scorer's inputs: the paper's sentence (byte-exact), that sentence enriched with
short phrases carrying the job's run context, or the same information in compact form."""

from __future__ import annotations

import math

import pandas as pd
from flowsleuth.workflows.context import context_of
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sentence import TEMPLATE_VERSION, render_frame

ENRICHED_VERSION = "enriched-v1"
COMPACT_VERSION = "compact-v1"
TEMPLATES: dict[str, str] = {
    "paper": TEMPLATE_VERSION,
    "enriched": ENRICHED_VERSION,
    "compact": COMPACT_VERSION,
}

# The enriched sentence runs to ~170 MiniLM tokens, and encoder time grows with length: the
# compact form keeps every number at two significant digits behind a one-word name (~2.5x fewer
# tokens; for fast CPU scoring).
_COMPACT_FEATURES: dict[str, str] = {
    "wms_delay": "wms",
    "queue_delay": "queue",
    "runtime": "runtime",
    "post_script_delay": "post",
    "stage_in_delay": "stagein",
    "stage_out_delay": "stageout",
    "stage_in_bytes": "inbytes",
    "stage_out_bytes": "outbytes",
    "kickstart_executables_cpu_time": "cpu",
}
_COMPACT_CONTEXT: dict[str, str] = {
    "runtime_ratio": "rt",
    "cpu_time_ratio": "ct",
    "stage_in_delay_ratio": "si",
    "host_runtime_vs_peers": "hrt",
    "host_iowait_vs_peers": "hio",
    "host_read_bps_vs_peers": "hrd",
    "host_stage_in_bps_vs_peers": "hsi",
}

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


def compact(run: Run) -> pd.Series:
    """``name value`` pairs, two significant digits: the job's nine numbers, then its context."""
    frame = run.frame.reindex(columns=list(_COMPACT_FEATURES)).to_numpy(dtype=float)
    context = context_of(run.frame).context
    cols = [c for c in _COMPACT_CONTEXT if c in context.columns]
    ctx = context.loc[run.frame.index, cols].to_numpy(dtype=float)
    names = list(_COMPACT_FEATURES.values()) + ["|"] + [_COMPACT_CONTEXT[c] for c in cols]
    texts = []
    for row, crow in zip(frame, ctx, strict=True):
        values = [_short(v) for v in row] + [""] + [_short(v) for v in crow]
        texts.append(" ".join(f"{n} {v}".strip() for n, v in zip(names, values, strict=True)))
    return pd.Series(texts, index=run.frame.index, dtype=object)


def render_inputs(run: Run, template: str) -> pd.Series:
    """One input text per job of ``run`` (same index) for ``template`` ('paper', 'enriched' or
    'compact')."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; choose from {sorted(TEMPLATES)}")
    if template == "compact":
        return compact(run)
    sentences = render_frame(run.frame)
    if template == "paper":
        return sentences
    return enrich(sentences, context_of(run.frame).context)
