"""The bundled Flow-Bench sample: a few small runs (normal, cpu, hdd) and the three DAGs."""

from __future__ import annotations

from pathlib import Path

from flowsleuth.workflows.dag import Dag, load_dag
from flowsleuth.workflows.names import PAPER_NAMES, canonical_workflow

SAMPLE_DIR = Path(__file__).resolve().parent
RUNS_DIR = SAMPLE_DIR / "runs"
DAGS_DIR = SAMPLE_DIR / "dags"


def sample_runs() -> list[Path]:
    return sorted(RUNS_DIR.glob("*/*.csv"))


def sample_run(name: str) -> Path:
    """A bundled run by stem, e.g. ``1000-genome-run0084``."""
    for p in sample_runs():
        if p.stem == name:
            return p
    raise KeyError(name)


def bundled_dag(workflow: str) -> Dag | None:
    """The DAG of a known workflow, or None for a workflow flowsleuth has no DAG for."""
    paper = PAPER_NAMES.get(canonical_workflow(workflow))
    return load_dag(DAGS_DIR / f"{paper}.json") if paper else None
