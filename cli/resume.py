"""Resumable triage output: rows are appended run by run under an exclusive lock; a sidecar
``<out>.progress.json`` records each finished run (by resolved source path, not by name), the
byte offset after it and a digest of its bytes. A killed triage resumes without duplicates or
losses; anything that does not add up is refused, with ``--restart`` as the way out."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from flowsleuth.agent.triage_models import RunTriage
from flowsleuth.cli.triage_out import encode
from flowsleuth.workflows.errors import FlowsleuthError

VERSION = 2
_RESTART = "; rerun with --restart to start the file over"


def run_key(source: str) -> str:
    """A run's identity: its resolved file path (plus the member, inside a zip)."""
    path, sep, member = source.partition("!")
    return str(Path(path).resolve()) + sep + member


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
        self.last_digest = ""
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
        offset, last = state["offset"], state["last"]
        if size < offset:
            raise FlowsleuthError(
                f"{self.path} holds {size} bytes but its progress file records {offset}: "
                f"it was truncated or replaced{_RESTART}"
            )
        if last["length"] > offset:
            raise FlowsleuthError(f"{self.progress_path}: inconsistent progress file{_RESTART}")
        self._fh.seek(offset - last["length"])
        if _digest(self._fh.read(last["length"])) != last["sha256"]:
            raise FlowsleuthError(
                f"{self.path}: its last finished run does not match the progress file "
                f"(the file was edited or written by someone else){_RESTART}"
            )
        self.done, self.offset, self.last_digest = state["runs"], offset, last["sha256"]

    def _read_state(self) -> dict[str, Any]:
        bad = f"{self.progress_path}: unreadable progress file"
        try:
            state = json.loads(self.progress_path.read_text())
            if not isinstance(state, dict) or state.get("version") != VERSION:
                raise ValueError("not a flowsleuth progress file of this version")
            if state.get("format") != self.fmt:
                raise FlowsleuthError(
                    f"{self.path} was started as {state.get('format')}, not {self.fmt}{_RESTART}"
                )
            runs = {str(k): int(v) for k, v in dict(state["runs"]).items()}
            last = {"length": int(state["last"]["length"]), "sha256": str(state["last"]["sha256"])}
            offset = int(state["offset"])
            if offset < 0 or last["length"] < 0:
                raise ValueError("negative offset")
        except FlowsleuthError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise FlowsleuthError(
                f"{bad} ({str(err).splitlines()[0] if str(err) else type(err).__name__}){_RESTART}"
            ) from None
        return {"runs": runs, "offset": offset, "last": last}

    def is_done(self, source: str) -> bool:
        return run_key(source) in self.done

    def flagged(self, source: str) -> int:
        return self.done[run_key(source)]

    def write(self, triage: RunTriage) -> None:
        data = encode(triage, self.fmt, header=self.offset == 0).encode()
        self._fh.seek(0, os.SEEK_END)
        self._fh.write(data)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.offset += len(data)
        self.done[run_key(triage.source)] = triage.n_flagged
        state = {
            "version": VERSION,
            "format": self.fmt,
            "offset": self.offset,
            "last": {"length": len(data), "sha256": _digest(data)},
            "runs": self.done,
        }
        fd, tmp = tempfile.mkstemp(prefix=self.progress_path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(state, fh)
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
