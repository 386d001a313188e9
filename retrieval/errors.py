"""Errors of the retrieval layer: each is a :class:`FlowsleuthError` with a one-line message."""

from __future__ import annotations

from flowsleuth.workflows.errors import FlowsleuthError


class JobIndexError(FlowsleuthError):
    """Base class: something is wrong with the job index."""


class IndexNotFoundError(JobIndexError):
    """There is no index where one was expected (nothing was built there yet)."""


class IndexUnavailableError(JobIndexError):
    """The index exists but cannot be used: unwritable directory, unreachable server, corrupt data."""


class IndexMismatchError(JobIndexError):
    """The index was built with another embedder or template than the one asked for."""


class EmbedderError(FlowsleuthError):
    """The embedding model cannot be loaded or run."""
