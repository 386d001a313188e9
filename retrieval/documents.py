"""What gets embedded for a job, and the metadata stored next to its vector.

Two templates, each its own collection (vectors of one never mix with the other):

* ``paper-v1``: the paper's sentence (:func:`workflows.sentence.render_frame`);
* ``context-v1``: the paper sentence followed by short phrases of run-context ratios from
  :func:`workflows.context.run_context`, e.g. ``runtime is 3.2x the transformation median``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from flowsleuth.retrieval.errors import JobIndexError
from flowsleuth.workflows.labels import parse_label
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sentence import TEMPLATE_VERSION, render, render_frame

PAPER_TEMPLATE = TEMPLATE_VERSION  # "paper-v1"
CONTEXT_TEMPLATE = "context-v1"
TEMPLATES = (PAPER_TEMPLATE, CONTEXT_TEMPLATE)
# chosen by the kNN-vote F1 on validation runs (bench/retrieval.py): .300 vs .244 mean F1;
# on test runs the two tie (.332 vs .333), so this is a weak preference
DEFAULT_TEMPLATE = CONTEXT_TEMPLATE

# (run_context column, phrase): the job against its transformation, its host against peers.
_CONTEXT_PHRASES: tuple[tuple[str, str], ...] = (
    ("runtime_ratio", "runtime is {}x the transformation median"),
    ("cpu_time_ratio", "cpu time is {}x the transformation median"),
    ("stage_in_delay_ratio", "stage in delay is {}x the transformation median"),
    ("host_runtime_vs_peers", "host runtime is {}x peers"),
    ("host_cpu_time_vs_peers", "host cpu time is {}x peers"),
    ("host_iowait_vs_peers", "host iowait is {}x peers"),
    ("host_read_bps_vs_peers", "host read rate is {}x peers"),
)


def check_template(template: str) -> str:
    if template not in TEMPLATES:
        raise JobIndexError(f"unknown template {template!r} (choose from {', '.join(TEMPLATES)})")
    return template


def _ratio(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.1f}"


def context_phrases(context: pd.DataFrame) -> pd.Series:
    """One ``, ``-joined phrase string per job from a :func:`run_context` frame."""
    cols = [(c, p) for c, p in _CONTEXT_PHRASES if c in context.columns]
    rows = context.reindex(columns=[c for c, _ in cols]).to_numpy(dtype=float)
    text = [", ".join(p.format(_ratio(v)) for (_, p), v in zip(cols, row, strict=True)) for row in rows]
    return pd.Series(text, index=context.index, dtype=object)


def run_texts(run: Run, template: str, context: pd.DataFrame | None = None) -> pd.Series:
    """The text to embed for every job of ``run`` (index: node id). ``context`` is reused when
    given (a :class:`tools.base.Subject` already holds it), computed otherwise."""
    paper = render_frame(run.frame)
    if check_template(template) == PAPER_TEMPLATE:
        return paper
    from flowsleuth.workflows.context import run_context

    ctx = run_context(run) if context is None else context
    return paper + context_phrases(ctx.reindex(run.frame.index))


def job_text(features: dict[str, float]) -> str:
    """The paper sentence of one job from its features (no run needed)."""
    return render(features)


def run_metadata(run: Run) -> list[dict[str, Any]]:
    """Chroma metadata for every job of a labelled run, in frame order."""
    if run.labels is None:
        raise JobIndexError(f"{run.source}: run {run.run_id} has no labels; only labelled jobs are indexed")
    frame = run.frame
    out = []
    for node, transformation, host in zip(
        frame.index.astype(str),
        frame["kickstart_transformations"].astype(str),
        frame["kickstart_hostname"].astype(str),
        strict=True,
    ):
        label = parse_label(str(run.labels.loc[node]))
        out.append(
            {
                "workflow": run.workflow,
                "run": run.run_id,
                "job": node,
                "transformation": transformation,
                "host": host,
                "label": label.raw,
                "cls": label.kind.value,
                "anomalous": label.is_anomalous,
            }
        )
    return out


def doc_id(run_id: str, node_id: str) -> str:
    """Stable vector id: upserting the same run twice replaces, never duplicates."""
    return f"{run_id}/{node_id}"
