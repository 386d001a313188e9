"""The project's own error type: every bad input becomes one of these, never a traceback."""

from __future__ import annotations

from pathlib import Path


class FlowsleuthError(Exception):
    """Base class for errors a user can act on. The CLI prints ``str(err)`` and exits 1."""


class DataError(FlowsleuthError):
    """A run file (or archive) that cannot be read as a Flow-Bench run.

    The message names the file, and the row or column where that applies.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        row: str | int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.reason = message
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        loc = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{self.path}{loc}: {message}")
