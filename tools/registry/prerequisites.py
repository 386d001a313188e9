"""What a tool needs before it can run: a file, a model artifact, a reachable URL.

Every check is cheap (a stat, or a TCP connect with a short timeout) so ``tools list`` can run
them all. ``check()`` returns None when met, else a one-line reason.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlparse


@runtime_checkable
class Prerequisite(Protocol):
    def check(self) -> str | None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class FileExists:
    path: str | Path

    def describe(self) -> str:
        return f"file {self.path}"

    def check(self) -> str | None:
        return None if Path(self.path).is_file() else f"missing file {self.path}"


@dataclass(frozen=True)
class ModelArtifact:
    """A fitted model file or directory (non-empty)."""

    path: str | Path

    def describe(self) -> str:
        return f"model {self.path}"

    def check(self) -> str | None:
        p = Path(self.path)
        if p.is_dir():
            return None if any(p.iterdir()) else f"empty model directory {p}"
        if p.is_file():
            return None if p.stat().st_size > 0 else f"empty model file {p}"
        return f"missing model {p}"


@dataclass(frozen=True)
class ReachableUrl:
    """An http(s) server that accepts a TCP connection within ``timeout_s``."""

    url: str
    timeout_s: float = 0.5

    def describe(self) -> str:
        return f"url {self.url}"

    def check(self) -> str | None:
        parsed = urlparse(self.url)
        if not parsed.hostname:
            return f"not a URL: {self.url!r}"
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with socket.create_connection((parsed.hostname, port), timeout=self.timeout_s):
                return None
        except OSError as err:
            return f"cannot reach {self.url} ({err.strerror or type(err).__name__})"


@dataclass(frozen=True)
class EnvVar:
    name: str

    def describe(self) -> str:
        return f"env ${self.name}"

    def check(self) -> str | None:
        return None if os.environ.get(self.name) else f"${self.name} is not set"


def unmet(prerequisites: tuple[Prerequisite, ...]) -> list[str]:
    """Reasons for every unmet prerequisite (a check that raises counts as unmet)."""
    reasons = []
    for p in prerequisites:
        try:
            why = p.check()
        except Exception as err:
            why = f"{p!r} check failed: {err}"
        if why:
            reasons.append(why)
    return reasons
