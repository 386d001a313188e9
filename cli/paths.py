"""Output paths are checked before any work starts: a triage must never finish only to fail
at writing its result."""

from __future__ import annotations

import os
from pathlib import Path

from flowsleuth.workflows.errors import FlowsleuthError


def check_writable(path: Path, what: str) -> None:
    """Raise a one-line :class:`FlowsleuthError` unless ``path`` can be written as a file."""
    if path.is_dir():
        raise FlowsleuthError(f"{what} {path} is a directory; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FlowsleuthError(f"{what} {path}: directory {parent} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise FlowsleuthError(f"{what} {path} is not writable")
    if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise FlowsleuthError(f"{what} {path}: directory {parent} is not writable")
