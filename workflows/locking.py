"""One writer at a time for a file that several flowsleuth processes update (a workflow's
history, its labels): an advisory lock on ``<file>.lock``, waited for, never left stale (the
kernel drops it when its holder dies)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from flowsleuth.workflows.errors import FlowsleuthError

WAIT_S = 60.0


@contextlib.contextmanager
def exclusive(target: Path, *, wait_s: float = WAIT_S) -> Iterator[None]:
    """Hold ``target``'s lock for a read-modify-write of ``target``. Another holder is waited
    for up to ``wait_s``, then this is a one-line error naming the file."""
    lock = target.with_name(target.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise FlowsleuthError(
                        f"{target}: another flowsleuth process has been writing it for over "
                        f"{wait_s:.0f} s; try again when it is done"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock
