"""Resumable triage output: rows are appended run by run under an exclusive lock; a sidecar
``<out>.progress.json`` records each finished run (by resolved source path, not by name; a
Pegasus run also by its wf_uuid), the byte offset after it and a digest of its bytes. A killed
triage resumes without duplicates or losses; anything that does not add up is refused, with
``--restart`` as the way out."""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Literal

from flowsleuth.agent.triage_models import RunTriage
from flowsleuth.cli.triage_out import encode
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.pegasus.submitdir import is_db_url
from pydantic import BaseModel, Field, NonNegativeInt

VERSION: Literal[2] = 2
_RESTART = "; rerun with --restart to start the file over"


def run_key(source: str, run_id: str | None = None) -> str:
    """A run's identity: its resolved file path (plus the member, inside a zip), or its DB URL;
    with ``run_id`` (a Pegasus run) also its wf_uuid: one stampede DB holds every workflow of a
    hierarchical run, and a sub-workflow without a submit directory has the DB as its source."""
    base = source if is_db_url(source) else _path_key(source)
    return base if run_id is None else f"{base}#{run_id}"


def _path_key(source: str) -> str:
    path, sep, member = source.partition("!")
    return str(Path(path).resolve()) + sep + member


def key_of(run: Run) -> str:
    return run_key(run.source, run.run_id if run.status is not None else None)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LastRecord(BaseModel):
    length: NonNegativeInt = Field(description="bytes the last finished run wrote")
    sha256: str = Field(description="digest of those bytes")


class Progress(BaseModel):
    """``<out>.progress.json``: what a resumed triage trusts, once checked against the file."""

    version: Literal[2] = VERSION
    format: str
    offset: NonNegativeInt = Field(description="out-file size after the last finished run")
    last: LastRecord
    runs: dict[str, int] = Field(description="run key (see run_key) -> jobs flagged")


class ResumableOutput:
    """Append-only ``path`` plus its progress file. Holds an exclusive lock until closed."""

    def __init__(self, path: Path, fmt: str, restart: bool = False) -> None:
        self.path = path
        self.fmt = fmt
        self.progress_path = path.with_name(path.name + ".progress.json")
        try:
            self._fh = open(path, "a+b")  # noqa: SIM115 - held (and locked) until close()
        except OSError as err:
            raise FlowsleuthError(f"{path}: cannot write ({err.strerror or err})") from None
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            raise FlowsleuthError(
                f"{path} is in use by another flowsleuth triage; wait for it or choose another --out"
            ) from None
        self.done: dict[str, int] = {}
        self.offset = 0
        # A writer killed while it replaced the progress file left its temporary copy; the
        # lock says no writer is alive, so it goes.
        for stale in path.parent.glob(glob.escape(self.progress_path.name) + ".*.tmp"):
            stale.unlink(missing_ok=True)
        try:
            if restart:
                self.progress_path.unlink(missing_ok=True)
            else:
                self._resume()
            # Drop whatever a killed run half-wrote after the last finished run.
            self._fh.truncate(self.offset)
        except BaseException:
            self._fh.close()  # releases the lock
            raise

    def _resume(self) -> None:
        size = os.fstat(self._fh.fileno()).st_size
        if not self.progress_path.exists():
            if size:
                raise FlowsleuthError(
                    f"{self.path} already holds {size} bytes and no triage progress{_RESTART}"
                )
            return
        state = self._read_state()
        if size < state.offset:
            raise FlowsleuthError(
                f"{self.path} holds {size} bytes but its progress file records {state.offset}: "
                f"it was truncated or replaced{_RESTART}"
            )
        if state.last.length > state.offset:
            raise FlowsleuthError(f"{self.progress_path}: inconsistent progress file{_RESTART}")
        self._fh.seek(state.offset - state.last.length)
        if _digest(self._fh.read(state.last.length)) != state.last.sha256:
            raise FlowsleuthError(
                f"{self.path}: its last finished run does not match the progress file "
                f"(the file was edited or written by someone else){_RESTART}"
            )
        self.done, self.offset = dict(state.runs), state.offset

    def _read_state(self) -> Progress:
        try:
            state = Progress.model_validate_json(self.progress_path.read_bytes())
        except (OSError, ValueError) as err:  # pydantic's ValidationError is a ValueError
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise FlowsleuthError(
                f"{self.progress_path}: unreadable progress file ({first}){_RESTART}"
            ) from None
        if state.format != self.fmt:
            raise FlowsleuthError(f"{self.path} was started as {state.format}, not {self.fmt}{_RESTART}")
        return state

    def _key(self, run: Run) -> str | None:
        key = key_of(run)
        if key in self.done:
            return key
        old = _path_key(run.source)  # how a progress file written before session 7 keyed every run
        return old if old in self.done else None

    def is_done(self, run: Run) -> bool:
        return self._key(run) is not None

    def flagged(self, run: Run) -> int:
        key = self._key(run)
        return self.done[key] if key is not None else 0

    def write(self, triage: RunTriage, run: Run) -> None:
        data = encode(triage, self.fmt, header=self.offset == 0).encode()
        self._fh.seek(0, os.SEEK_END)
        self._fh.write(data)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.offset += len(data)
        self.done[key_of(run)] = triage.n_flagged
        state = Progress(
            format=self.fmt,
            offset=self.offset,
            last=LastRecord(length=len(data), sha256=_digest(data)),
            runs=self.done,
        )
        fd, tmp = tempfile.mkstemp(prefix=self.progress_path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(state.model_dump_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.progress_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> ResumableOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
