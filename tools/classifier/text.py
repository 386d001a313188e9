"""The SFT scorer's inputs: the paper's sentence (byte-exact), that sentence enriched with
short phrases carrying the job's run context, or the same information in compact form."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from flowsleuth.workflows.context import context_of
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sentence import TEMPLATE_VERSION, render_frame

ENRICHED_VERSION = "enriched-v1"
COMPACT_VERSION = "compact-v1"
SHORT_VERSION = "short-v1"
TEMPLATES: dict[str, str] = {
    "paper": TEMPLATE_VERSION,
    "enriched": ENRICHED_VERSION,
    "compact": COMPACT_VERSION,
    "short": SHORT_VERSION,
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


# short form: the compact pairs behind one-token MiniLM words, numbers without exponent or leading
# zero, and a missing value (NaN: a stampede-only run has no kickstart counters) left out rather
# than spelled ``nan``: ~40% fewer tokens than compact, so faster CPU scoring
_SHORT_FEATURES: dict[str, str] = {
    "wms_delay": "wait",
    "queue_delay": "queue",
    "runtime": "run",
    "post_script_delay": "post",
    "stage_in_delay": "in",
    "stage_out_delay": "out",
    "stage_in_bytes": "read",
    "stage_out_bytes": "write",
    "kickstart_executables_cpu_time": "cpu",
}
_SHORT_CONTEXT: dict[str, str] = {
    "runtime_ratio": "rt",
    "cpu_time_ratio": "ct",
    "stage_in_delay_ratio": "si",
    "host_runtime_vs_peers": "host",
    "host_iowait_vs_peers": "io",
    "host_read_bps_vs_peers": "disk",
    "host_stage_in_bps_vs_peers": "net",
}


def _tight(v: float) -> str:
    """Two significant digits in few tokens: 980 not 9.8e+02, 12e8 not 1.2e+09, .93 not 0.93."""
    a = abs(v)
    if a >= 1e5:
        mantissa, exp = f"{v:.1e}".split("e")
        return f"{round(float(mantissa) * 10)}e{int(exp) - 1}"
    if a >= 10:
        return str(round(float(f"{v:.2g}")))
    s = f"{v:.2g}"
    return s.replace("0.", ".", 1) if s.startswith(("0.", "-0.")) else s


def short(run: Run) -> pd.Series:
    """``name value`` pairs of the values a job has (NaN left out), then ``|`` and its context."""
    frame = run.frame.reindex(columns=list(_SHORT_FEATURES)).to_numpy(dtype=float)
    context = context_of(run.frame).context
    cols = [c for c in _SHORT_CONTEXT if c in context.columns]
    ctx = context.loc[run.frame.index, cols].to_numpy(dtype=float)
    names = list(_SHORT_FEATURES.values())
    cnames = [_SHORT_CONTEXT[c] for c in cols]

    def pairs(keys: list[str], row: np.ndarray) -> str:
        return " ".join(f"{k} {_tight(v)}" for k, v in zip(keys, row, strict=True) if not math.isnan(v))

    texts = [f"{pairs(names, row)} | {pairs(cnames, crow)}" for row, crow in zip(frame, ctx, strict=True)]
    return pd.Series(texts, index=run.frame.index, dtype=object)


def render_inputs(run: Run, template: str) -> pd.Series:
    """One input text per job of ``run`` (same index) for ``template`` ('paper', 'enriched' or
    'compact', 'short')."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; choose from {sorted(TEMPLATES)}")
    if template == "compact":
        return compact(run)
    if template == "short":
        return short(run)
    sentences = render_frame(run.frame)
    if template == "paper":
        return sentences
    return enrich(sentences, context_of(run.frame).context)


N_INPUTS = len(_SHORT_FEATURES) + len(_SHORT_CONTEXT)  # values the compact/short forms carry


def missing_inputs(run: Run, template: str) -> pd.Series:
    """Per job, the template's input values the run lacks (NaN: e.g. a stampede DB without
    kickstart records has no CPU time or stage-in/out bytes); empty lists for the sentence
    templates, which spell every column."""
    if template not in ("compact", "short"):
        return pd.Series([[] for _ in run.job_ids], index=run.frame.index, dtype=object)
    frame = run.frame.reindex(columns=list(_SHORT_FEATURES))
    context = context_of(run.frame).context.reindex(index=run.frame.index, columns=list(_SHORT_CONTEXT))
    both = pd.concat([frame, context], axis=1).astype(float).isna().to_numpy()
    cols = [*_SHORT_FEATURES, *_SHORT_CONTEXT]
    return pd.Series(
        [[c for c, miss in zip(cols, row, strict=True) if miss] for row in both],
        index=run.frame.index,
        dtype=object,
    )
