"""Consecutive small runs scored as one batch (see :mod:`flowsleuth.workflows.batch`): the
per-run cost of a 12-job run is mostly fixed overhead, paid once per batch instead.

A batch holds at most :data:`MAX_RUNS` runs and ends once it holds ``max_jobs`` jobs (the
``batch_jobs`` setting; one large run fills a batch alone). Runs keep their
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
# A worker's task: smaller batches, so the work spreads over the workers. Larger runs are batched
# too: on 200 Flow-Bench runs (~270 jobs each) scoring them alone made `--workers 2` only 1.16x
# serial on a quiet 2-core box; batched, 1.42x (bench.scale --only modes).
PARALLEL_RUNS, PARALLEL_JOBS = 16, 2000


def batched(
    runs: Iterable[Run],
    skip: Callable[[Run], bool],
    max_runs: int = MAX_RUNS,
    max_jobs: int = MAX_JOBS,
) -> Iterator[list[tuple[Run, bool]]]:
    """``(run, skipped)`` in input order, in batches; ``skipped`` runs (already in a resumed
    output) ride along without counting."""
    group: list[tuple[Run, bool]] = []
    n_runs = n_jobs = 0
    for run in runs:
        done = skip(run)
        group.append((run, done))
        if not done:
            n_runs += 1
            n_jobs += len(run.frame)
        if n_runs >= max_runs or n_jobs >= max_jobs:
            yield group
            group, n_runs, n_jobs = [], 0, 0
    if group:
        yield group


def parallel_caps(batch_jobs: int) -> dict[str, int]:
    """A worker's task size: the setting ``batch_jobs`` caps it too (a killed command redoes
    at most one batch per worker)."""
    return {"max_runs": PARALLEL_RUNS, "max_jobs": min(PARALLEL_JOBS, batch_jobs)}


def deps_of(kit: Toolkit, runs: list[Run]) -> dict[int, Deps]:
    """Each run's dependencies (its scoring pass included), scored as one batch; empty when the
    batch cannot be (each run is then scored alone, and a bad one raises its own error)."""
    if len(runs) < 2:
        return {}
    try:
        return {id(r): d for r, d in zip(runs, kit.deps_many(runs), strict=True)}
    except Exception:  # scored again run by run, where the error is the run's own
        return {}
