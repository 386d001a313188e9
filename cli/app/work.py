"""The unit of parallel triage: score one run with a toolkit loaded once per worker process.

Workers never explain (the LLM is the parent's) and never raise: a run that fails is returned
as a one-line reason, and the parent reports it like any bad run."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import TypeAlias

from flowsleuth.agent.triage_models import RunTriage
from flowsleuth.cli.app.settings import Settings
from flowsleuth.cli.app.toolkit import Toolkit, load_toolkit
from flowsleuth.workflows.models import Run

Outcome: TypeAlias = RunTriage | str  # a triage, or why the run could not be scored


def load_worker_kit(settings: Settings, sft: bool) -> Toolkit:
    """What a worker needs: the models and index of ``settings.home``; no LLM. The process
    lives for them, so they are left out of the garbage collector's scans (:func:`heap_frozen`)."""
    kit = load_toolkit(settings, llm=False, sft=sft, fast_sft=sft)
    gc.freeze()
    return kit


@contextlib.contextmanager
def heap_frozen() -> Iterator[None]:
    """The objects alive now (imports, loaded models) skipped by the cyclic garbage collector
    until the block ends: each full collection scanned all ~200k of them, ~1 ms CPU a small
    run of a triage. Nothing is lost: garbage among them is collected after the block."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def score(kit: Toolkit, run: Run) -> Outcome:
    """Every job of ``run`` scored, no explanation; a failure becomes its one-line reason."""
    return score_many(kit, [run])[0]


def score_many(kit: Toolkit, runs: list[Run]) -> list[Outcome]:
    """:func:`score` of each run, the runs scored as one batch (see :mod:`.batches`); a run
    that fails is scored alone, so its failure is its own."""
    from flowsleuth.agent import triage
    from flowsleuth.cli.app.batches import deps_of

    deps = deps_of(kit, runs)
    out: list[Outcome] = []
    for run in runs:
        try:
            d = deps.pop(id(run), None) or kit.deps(run)
            out.append(triage.triage_run(d, explain=0))
        except Exception as err:  # any failure is this run's, reported by the parent
            first = str(err).splitlines()[0] if str(err) else ""
            out.append(f"scoring failed in a worker ({type(err).__name__}: {first})")
    return out
