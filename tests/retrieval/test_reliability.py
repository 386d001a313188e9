"""A broken index or server is a clear FlowsleuthError, never a traceback or a hang."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flowsleuth.retrieval.errors import IndexNotFoundError, IndexUnavailableError, JobIndexError
from flowsleuth.retrieval.index import open_index
from flowsleuth.workflows.errors import FlowsleuthError


def test_missing_index_directory(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="no index at .*flowsleuth index build"):
        open_index(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IndexNotFoundError, match="holds no index"):
        open_index(empty)


def test_corrupt_index(tmp_path: Path) -> None:
    d = tmp_path / "idx"
    d.mkdir()
    (d / "chroma.sqlite3").write_bytes(b"this is not sqlite" * 200)
    with pytest.raises(IndexUnavailableError, match="corrupt or unreadable.*rebuild"):
        open_index(d)


def test_index_path_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "idx"
    f.write_text("x")
    with pytest.raises(IndexUnavailableError, match="is a file"):
        open_index(f, create=True)


def test_index_directory_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(IndexUnavailableError, match="cannot create index directory"):
        open_index(blocker / "idx", create=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_unwritable_index_directory(tmp_path: Path) -> None:
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with pytest.raises(IndexUnavailableError, match="not writable"):
            open_index(d, create=True)
    finally:
        d.chmod(0o700)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWSLEUTH_CHROMA_URL", raising=False)
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(IndexUnavailableError, match="cannot reach the Chroma server"):
        open_index(chroma_url=url, timeout_s=1.0)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts TCP connections (the kernel backlog does) but never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def test_silent_server_times_out(silent_server: str) -> None:
    with pytest.raises(IndexUnavailableError, match=r"within 0.5 s"):
        open_index(chroma_url=silent_server, timeout_s=0.5)


def test_bad_server_url() -> None:
    with pytest.raises(IndexUnavailableError, match="not a Chroma server URL"):
        open_index(chroma_url="ftp://host/x")


def test_exactly_one_location(tmp_path: Path) -> None:
    # Where the index is comes from the CLI's Settings; open_index takes it explicitly.
    with pytest.raises(JobIndexError, match="exactly one"):
        open_index()
    with pytest.raises(JobIndexError, match="exactly one"):
        open_index(tmp_path, "http://arg:2")


def test_every_error_is_a_flowsleuth_error() -> None:
    for err in (IndexNotFoundError, IndexUnavailableError, JobIndexError):
        assert issubclass(err, FlowsleuthError)
