"""Bad input: one clear line each (DataError), never a traceback, never a write."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import UnknownJobError
from flowsleuth.workflows.pegasus import connect, iter_pegasus_runs

from .conftest import FIXTURES


def _read(source: object) -> list:
    return list(iter_pegasus_runs(source))  # type: ignore[arg-type]


def _one_line(err: pytest.ExceptionInfo[DataError]) -> str:
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def _db_copy(writable_copy, name: str = "process_wf_success") -> Path:
    return next(writable_copy(name).glob("*.stampede.db"))


def test_wrong_schema_version(writable_copy) -> None:
    db = _db_copy(writable_copy)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE dbversion SET version_number = 11")
    with pytest.raises(DataError) as err:
        _read(db)
    assert "stampede schema version 11; flowsleuth reads version 14" in _one_line(err)


def test_truncated_db(writable_copy) -> None:
    db = _db_copy(writable_copy)
    raw = db.read_bytes()
    db.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError) as err:
        _read(db)
    assert "truncated SQLite database" in _one_line(err)


def test_not_sqlite(tmp_path: Path) -> None:
    f = tmp_path / "run.stampede.db"
    f.write_text("node_id,runtime\nx,1\n")
    with pytest.raises(DataError) as err:
        _read(f)
    assert "not an SQLite database" in _one_line(err)


def test_empty_file_and_empty_db(tmp_path: Path) -> None:
    f = tmp_path / "a.stampede.db"
    f.touch()
    with pytest.raises(DataError) as err:
        _read(f)
    assert "empty file" in _one_line(err)
    g = tmp_path / "b.stampede.db"
    sqlite3.connect(g).execute("PRAGMA user_version = 1").connection.commit()
    with pytest.raises(DataError) as err:
        _read(g)
    assert "empty database" in _one_line(err)


def test_not_a_stampede_db(tmp_path: Path) -> None:
    f = tmp_path / "other.db"
    with sqlite3.connect(f) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(DataError) as err:
        _read(f)
    assert "not a stampede database" in _one_line(err)


def test_locked_db_is_waited_out(writable_copy, monkeypatch: pytest.MonkeyPatch) -> None:
    """monitord holding a write lock briefly: the reader retries and then reads."""
    db = _db_copy(writable_copy)
    writer = sqlite3.connect(db, check_same_thread=False)
    writer.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.6, writer.rollback).start()
    t0 = time.monotonic()
    runs = _read(db)
    assert len(runs[0]) == 5 and time.monotonic() - t0 >= 0.5
    writer.close()


def test_locked_db_that_stays_locked(writable_copy, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _db_copy(writable_copy)
    monkeypatch.setattr(connect, "LOCK_RETRIES", 2)
    monkeypatch.setattr(connect, "LOCK_WAIT_S", 0.05)
    writer = sqlite3.connect(db)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DataError) as err:
            _read(db)
        assert "database is locked" in _one_line(err)
    finally:
        writer.rollback()
        writer.close()


def test_directory_that_is_not_a_submit_dir(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError) as err:
        _read(tmp_path)
    assert "not a Pegasus submit directory" in _one_line(err)


def test_job_id_not_in_run() -> None:
    run = _read(FIXTURES / "process_wf_failure")[0]
    with pytest.raises(UnknownJobError) as err:
        run.job("ls_ID9999")
    assert "no job 'ls_ID9999'" in str(err.value)


def test_unsupported_url() -> None:
    with pytest.raises(DataError) as err:
        _read("oracle://u@h/db")
    assert "unsupported database" in _one_line(err)
