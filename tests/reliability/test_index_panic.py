"""Chroma's Rust core can panic on a corrupt database (``pyo3_runtime.PanicException``, a
BaseException): at the index boundary that is a note, never a traceback."""

from __future__ import annotations

from typing import Any

import chromadb
import pytest
from flowsleuth.cli.main import app
from flowsleuth.retrieval.client import chroma_errors
from flowsleuth.retrieval.errors import IndexUnavailableError
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

# What pyo3 raises: a BaseException subclass named PanicException in module pyo3_runtime.
PanicException = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})


class _PanickingClient:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def list_collections(self) -> list[Any]:
        raise PanicException("called `Option::unwrap()` on a `None` value")


def test_a_panic_while_opening_the_index_is_a_note(env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chromadb, "PersistentClient", _PanickingClient)
    run = sample_run("1000-genome-run0084")
    result = CliRunner().invoke(app, ["why", str(run), "individuals_ID0000047", "--json"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    note = result.stderr.replace("\n", " ")
    assert "note: index:" in note and "corrupt or unreadable" in note and "unwrap" in note


def test_a_panic_during_a_query_is_an_index_error() -> None:
    with pytest.raises(IndexUnavailableError, match="the index is corrupt"), chroma_errors("index x: query"):
        raise PanicException("index out of bounds")


def test_interrupts_still_pass_through() -> None:
    with pytest.raises(KeyboardInterrupt), chroma_errors("index x"):
        raise KeyboardInterrupt
