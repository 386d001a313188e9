"""``triage --workers N``: runs scored in a local process pool, yielded in input order.

Each worker process loads the toolkit once (the pool's initializer). The parent reads the runs,
keeps a bounded window of them in flight, consecutive small runs batched into one task (scored
in one pass, see :mod:`.batches`), and is the only writer of the output. A worker that dies
breaks the pool: the runs in flight are resubmitted to a fresh pool, run by run, and a run that
was in flight at ``MAX_ATTEMPTS`` breaks is reported as failed, so none is lost or duplicated."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from flowsleuth.cli.app.batches import batched, parallel_caps
from flowsleuth.cli.app.settings import Settings
from flowsleuth.cli.app.toolkit import Toolkit
from flowsleuth.cli.app.work import Outcome, load_worker_kit, score_many
from flowsleuth.cli.errors import err_console
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run

MAX_ATTEMPTS = 3
_KIT: Toolkit | str | None = None  # this worker process's toolkit (or why it failed), set by _init


def parse_workers(value: str) -> int:
    """``--workers``: a positive count, or ``auto`` for the cores this process may use."""
    if value.strip().lower() == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise FlowsleuthError(f"--workers must be a positive number or auto, not {value!r}")
    return n


def _die_with_parent() -> None:
    """Linux: this worker gets SIGKILL when its parent (the forkserver, which exits with the
    triage process) dies, so a killed triage leaves no orphaned workers holding models."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _init(settings: Settings, sft: bool) -> None:
    global _KIT
    _die_with_parent()
    try:
        _KIT = load_worker_kit(settings, sft)
    except Exception as err:  # reported per run; a raising initializer kills the pool
        _KIT = f"the worker could not load its models ({type(err).__name__}: {err})"


def _work(runs: list[Run]) -> list[Outcome]:
    if _KIT is None or isinstance(_KIT, str):
        return [_KIT or "internal: worker has no toolkit"] * len(runs)
    return score_many(_KIT, runs)


@dataclass
class _Slot:
    """A batch of consecutive runs (see :mod:`.batches`), in input order."""

    items: list[tuple[Run, bool]]  # (run, already in the resumed output: not scored again)
    fut: Future[list[Outcome]] | None = None
    tries: int = 0

    @property
    def todo(self) -> list[Run]:
        return [r for r, done in self.items if not done]


class PoolScorer:
    """Score runs on ``workers`` local processes, forked from a fresh forkserver that imported
    the scoring stack once (forking this process is unsafe: torch and rich run threads here)."""

    def __init__(self, settings: Settings, sft: bool, workers: int) -> None:
        self.settings, self.sft, self.workers = settings, sft, workers
        self.window = 2 * workers  # batches: enough to keep every worker busy, few runs held
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ProcessPoolExecutor(
            self.workers,
            mp_context=ctx,
            initializer=_init,
            initargs=(self.settings, self.sft),
        )

    def map(self, runs: Iterable[Run], skip: Callable[[Run], bool]) -> Iterator[tuple[Run, Outcome | None]]:
        """``(run, outcome)`` in input order; ``None`` for a run ``skip`` says is already done."""
        flight: deque[_Slot] = deque()
        source = batched(runs, skip, **parallel_caps(self.settings.batch_jobs))
        while True:
            while len(flight) < self.window and (items := next(source, None)) is not None:
                slot = _Slot(items)
                if slot.todo:
                    self._submit(slot)
                flight.append(slot)
            if not flight:
                return
            slot = flight[0]
            outcomes: list[Outcome] = []
            if slot.fut is not None:
                try:
                    outcomes = slot.fut.result()
                except BrokenProcessPool:
                    self._recover(flight)
                    continue
                except Exception as err:  # e.g. a result that did not pickle
                    outcomes = [f"scoring failed in a worker ({type(err).__name__}: {err})"] * len(slot.todo)
            flight.popleft()
            scored = iter(outcomes)
            for run, done in slot.items:
                yield run, (None if done else next(scored))

    def _submit(self, slot: _Slot) -> None:
        try:
            slot.fut = self._pool.submit(_work, slot.todo)
            slot.tries += 1
        except BrokenProcessPool as err:  # broke before its head run said so: recovered there
            slot.fut = Future()
            slot.fut.set_exception(err)

    def _recover(self, flight: deque[_Slot]) -> None:
        """A fresh pool; every run the break took down is resubmitted, or reported after
        ``MAX_ATTEMPTS`` tries (the pool cannot say which run killed its worker)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        lost = [
            s for s in flight if s.fut is not None and (s.fut.cancelled() or s.fut.exception() is not None)
        ]
        n_lost = sum(len(s.todo) for s in lost)
        err_console.print(f"[yellow]a worker died:[/] {n_lost} run(s) it took down are scored again")
        again: deque[_Slot] = deque()
        for slot in flight:
            fut = slot.fut
            if fut is None or (not fut.cancelled() and fut.exception() is None):
                again.append(slot)  # already done, or finished before the break: keep its result
                continue
            # run by run from now on: a run that kills its worker then takes down no other run
            for part in (
                [_Slot([item], tries=slot.tries) for item in slot.items] if len(slot.items) > 1 else [slot]
            ):
                again.append(part)
                if not part.todo:
                    continue
                if part.tries >= MAX_ATTEMPTS:
                    part.fut = Future()
                    part.fut.set_result([f"a worker died while scoring it ({part.tries} tries)"])
                else:
                    self._submit(part)
        flight.clear()
        flight.extend(again)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
