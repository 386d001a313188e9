"""Consecutive small runs scored as one batch (see :mod:`flowsleuth.workflows.batch`): the
per-run cost of a 12-job run is mostly fixed overhead, paid once per batch instead.

A batch holds at most :data:`MAX_RUNS` runs and ends once it holds ``max_jobs`` jobs (the
``batch_jobs`` setting in serial triage; one large run fills a batch alone). Runs keep their
input order, and a batch that cannot be scored together is scored run by run, so a bad run
fails alone, exactly as it would unbatched."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from flowsleuth.workflows.models import Run

if TYPE_CHECKING:
    from flowsleuth.agent.deps import Deps
    from flowsleuth.cli.app.toolkit import Toolkit

MAX_RUNS = 64
MAX_JOBS = 5000  # the default of the ``batch_jobs`` setting
# A worker's task: only small runs batched, in smaller batches, so the work spreads over workers.
PARALLEL = {"max_runs": 16, "max_jobs": 1000, "alone_from": 100}


def batched(
    runs: Iterable[Run],
    skip: Callable[[Run], bool],
    max_runs: int = MAX_RUNS,
    max_jobs: int = MAX_JOBS,
    alone_from: int | None = None,
) -> Iterator[list[tuple[Run, bool]]]:
    """``(run, skipped)`` in input order, in batches; ``skipped`` runs (already in a resumed
    output) ride along without counting. ``alone_from``: a run of at least that many jobs is a
    batch of its own (its fixed cost is small next to its jobs)."""
    group: list[tuple[Run, bool]] = []
    n_runs = n_jobs = 0
    for run in runs:
        done = skip(run)
        if not done and alone_from is not None and len(run.frame) >= alone_from:
            if group:
                yield group
            yield [(run, done)]
            group, n_runs, n_jobs = [], 0, 0
            continue
        group.append((run, done))
        if not done:
            n_runs += 1
            n_jobs += len(run.frame)
        if n_runs >= max_runs or n_jobs >= max_jobs:
            yield group
            group, n_runs, n_jobs = [], 0, 0
    if group:
        yield group


def deps_of(kit: Toolkit, runs: list[Run]) -> dict[int, Deps]:
    """Each run's dependencies (its scoring pass included), scored as one batch; empty when the
    batch cannot be (each run is then scored alone, and a bad one raises its own error)."""
    if len(runs) < 2:
        return {}
    try:
        return {id(r): d for r, d in zip(runs, kit.deps_many(runs), strict=True)}
    except Exception:  # scored again run by run, where the error is the run's own
        return {}
