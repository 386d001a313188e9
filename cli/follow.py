"""Following a run CSV that grows, for ``watch``: survive deletion and rotation, and drop a bad
appended row (reported once) instead of ending the watch and losing every row after it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.loader import run_from_bytes
from flowsleuth.workflows.models import Run

_NOT_YET = ("empty file", "the run has no jobs")


@dataclass
class Follower:
    """Reads ``path`` afresh on each :meth:`poll`; ``report`` gets one line per event."""

    path: Path
    report: Callable[[str], None]
    workflow: str | None = None  # the user's --workflow, when the file name does not say
    bad_lines: set[bytes] = field(default_factory=set)
    _ident: tuple[int, int] | None = None
    _missing: bool = False
    _size: int = -1

    def changed(self) -> bool:
        """Whether the file changed since the last poll (or appeared, or went away)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if not self._missing:
                self._missing = True
                self.report(f"{self.path} disappeared; waiting for it to come back")
            return False
        ident = (st.st_dev, st.st_ino)
        if self._missing or (self._ident is not None and (ident != self._ident or st.st_size < self._size)):
            self.report(f"{self.path} was replaced or truncated (rotated?): following the new file")
        self._missing = False
        grew = ident != self._ident or st.st_size != self._size
        self._ident, self._size = ident, st.st_size
        return grew

    def _complete_lines(self) -> bytes | None:
        """The file up to its last newline: a half-written row is left for the next poll."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return raw[: raw.rfind(b"\n") + 1]

    def _parse(self, raw: bytes) -> Run:
        return run_from_bytes(
            raw, str(self.path), name=self.path.stem, dirname=self.path.parent.name, workflow=self.workflow
        )

    def poll(self) -> Run | None:
        """The run as it stands, without rows that failed to parse; None before the first job."""
        raw = self._complete_lines()
        if raw is None:
            return None
        header, _, body = raw.partition(b"\n")
        lines = [ln for ln in body.splitlines(keepends=True) if ln not in self.bad_lines]
        try:
            return self._parse(header + b"\n" + b"".join(lines))
        except DataError as err:
            if err.reason in _NOT_YET:
                return None
            if not lines:
                raise
        # Some row is bad: find it (them) line by line, report each once, go on without them.
        good: list[bytes] = []
        ids: set[str] = set()
        for ln in lines:
            try:
                job = self._parse(header + b"\n" + ln).job_ids[0]
                if job in ids:
                    raise DataError(self.path, f"duplicate job id {job!r}")
            except DataError as err:
                self.bad_lines.add(ln)
                self.report(f"skipped a bad row: {err}")
                continue
            ids.add(job)
            good.append(ln)
        return self._parse(header + b"\n" + b"".join(good)) if good else None
