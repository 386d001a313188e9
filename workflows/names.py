"""Workflow name aliases: Flow-Bench spells each workflow three ways across its folders."""

from __future__ import annotations

import re

# canonical (run file prefix) -> spelling used by the DAG files and the paper's split folders
PAPER_NAMES = {
    "1000-genome": "1000genome",
    "montage": "montage",
    "predict-future-sales": "predict_future_sales",
}


def canonical_workflow(name: str) -> str:
    """Map any spelling (``1000genome``, ``predict_future_sales``) to the run-file prefix."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    for canon in PAPER_NAMES:
        if re.sub(r"[^a-z0-9]", "", canon) == key:
            return canon
    return name
