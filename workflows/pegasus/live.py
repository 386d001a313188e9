"""Follow a running workflow through its stampede DB, read-only: what changed since the last poll.

Each poll asks the DB one cheap question (how many job states, the latest timestamp); only when
that changes is the whole run re-read. Events: a job finished (succeeded or failed), a job was
held, the run stalled (no job changed state for ``stall_after_s`` while jobs are queued), and the
DB was deleted or replaced under us (monitord rotates it on a restart): a clear error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.pegasus import tables as t
from flowsleuth.workflows.pegasus.connect import open_engine, with_retry
from flowsleuth.workflows.pegasus.reader import iter_db_runs
from flowsleuth.workflows.pegasus.submitdir import is_db_url, open_submit_dir

EventKind = Literal["finished", "held", "stall"]


@dataclass(frozen=True)
class LiveEvent:
    kind: EventKind
    run: Run
    job_ids: tuple[str, ...] = ()
    detail: str = ""


@dataclass
class _Seen:
    outcomes: dict[tuple[str, str], str] = field(default_factory=dict)
    held: set[tuple[str, str]] = field(default_factory=set)


def resolve_db(source: str) -> tuple[str | Path, Path | None]:
    """(DB file or URL, submit dir) for a submit directory, a DB file or a URL."""
    if is_db_url(source):
        return source, None
    p = Path(source)
    if p.is_dir():
        sub = open_submit_dir(p)
        if sub.db is None:
            raise DataError(p, "no stampede DB in this submit directory yet (is pegasus-monitord running?)")
        return sub.db, p
    return p, (p.parent if (p.parent / "braindump.yml").is_file() else None)


class StampedeFollower:
    """Poll a stampede DB; :meth:`poll` returns the events since the last call."""

    def __init__(self, source: str, stall_after_s: float, clock: Callable[[], float] = time.time):
        self.db, self.submit_dir = resolve_db(source)
        self.stall_after_s = stall_after_s
        self.clock = clock
        self._ident = self._file_ident()
        self._signature: tuple[int, float] | None = None
        self._seen = _Seen()
        self._runs: list[Run] = []
        self._last_change = clock()
        self._stalled = False

    def _file_ident(self) -> tuple[int, int] | None:
        if isinstance(self.db, str):
            return None
        try:
            st = os.stat(self.db)
        except FileNotFoundError:
            raise DataError(
                self.db, "the stampede DB is gone (deleted or rotated by monitord); stopped"
            ) from None
        return (st.st_dev, st.st_ino)

    def _check_file(self) -> None:
        if self._ident is not None and self._file_ident() != self._ident:
            raise DataError(
                self.db,
                "the stampede DB was replaced (monitord rotated it); run watch again to follow the new one",
            )

    def _current_signature(self) -> tuple[int, float]:
        engine, name = open_engine(self.db)
        try:

            def read() -> tuple[int, float]:
                with engine.connect() as con:
                    q = sa.select(sa.func.count(), sa.func.max(t.jobstate.c.timestamp)).select_from(
                        t.jobstate
                    )
                    n, ts = con.execute(q).one()
                    return int(n), float(ts or 0.0)

            return with_retry(name, read)
        finally:
            engine.dispose()

    @property
    def runs(self) -> list[Run]:
        return self._runs

    def poll(self) -> Iterator[LiveEvent]:
        self._check_file()
        sig = self._current_signature()
        now = self.clock()
        if sig != self._signature:
            self._signature, self._last_change, self._stalled = sig, now, False
            self._runs = list(iter_db_runs(self.db, self.submit_dir))
            yield from self._diff()
        elif not self._stalled and now - self._last_change >= self.stall_after_s:
            for run in self._runs:
                queued = _queued(run)
                if queued:
                    self._stalled = True
                    mins = (now - self._last_change) / 60
                    yield LiveEvent("stall", run, tuple(queued), f"no job changed state for {mins:.1f} min")

    def _diff(self) -> Iterator[LiveEvent]:
        for run in self._runs:
            if run.status is None:
                continue
            finished, held = [], []
            for job, outcome, is_held in zip(
                run.status.index, run.status["outcome"], run.status["held"], strict=True
            ):
                key = (run.run_id, str(job))
                if outcome in ("succeeded", "failed") and self._seen.outcomes.get(key) != outcome:
                    finished.append(str(job))
                self._seen.outcomes[key] = str(outcome)
                if is_held and key not in self._seen.held:
                    self._seen.held.add(key)
                    held.append(str(job))
            if held:
                yield LiveEvent("held", run, tuple(held))
            if finished:
                yield LiveEvent("finished", run, tuple(finished))


def _queued(run: Run) -> list[str]:
    """Jobs submitted but not finished (a try with no exit code yet)."""
    if run.status is None:
        return []
    return [str(j) for j in run.status.index[run.status["outcome"] == "running"]]
