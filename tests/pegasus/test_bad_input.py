"""Bad input: one clear line each (DataError), never a traceback, never a write."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import UnknownJobError
from flowsleuth.workflows.pegasus import connect, iter_pegasus_runs, run_counts

from .conftest import FIXTURES


def _read(source: object) -> list:
    return list(iter_pegasus_runs(source))  # type: ignore[arg-type]


def _one_line(err: pytest.ExceptionInfo[DataError]) -> str:
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def _db_copy(writable_copy, name: str = "process_wf_success") -> Path:
    return next(writable_copy(name).glob("*.stampede.db"))


@pytest.mark.parametrize("version", [8, 15])
def test_wrong_schema_version(writable_copy, version: int) -> None:
    db = _db_copy(writable_copy)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE dbversion SET version_number = ?", (version,))
    with pytest.raises(DataError) as err:
        _read(db)
    assert f"stampede schema version {version}; flowsleuth reads versions 11-14" in _one_line(err)


def test_truncated_db(writable_copy) -> None:
    db = _db_copy(writable_copy)
    raw = db.read_bytes()
    db.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError) as err:
        _read(db)
    assert "truncated SQLite database" in _one_line(err)


@pytest.mark.parametrize(
    "name, column",
    [("process_wf_success", "host.hostname"), ("process_wf_failure", "job_instance.stdout_text")],
)
def test_corrupt_bytes_in_a_text_field(writable_copy, name: str, column: str) -> None:
    """Bytes that are not UTF-8 where SQLite promises text (a damaged page, or a tampered file)."""
    db = _db_copy(writable_copy, name)
    table, col = column.split(".")
    with sqlite3.connect(db) as con:
        con.execute(f"UPDATE {table} SET {col} = CAST(X'68C3FF28' AS TEXT)")
    with pytest.raises(DataError) as err:
        _read(db)
    assert "not valid UTF-8" in _one_line(err)


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


def _without_db(writable_copy, name: str) -> Path:
    d = writable_copy(name)
    for db in d.glob("*.stampede.db"):
        db.unlink()
    return d


def test_nesting_bomb_in_kickstart_record_is_skipped(writable_copy) -> None:
    """A record that is not YAML we can read loses its usage, not the run."""
    d = _without_db(writable_copy, "process_wf_failure")
    records = sorted((d / "00" / "00").glob("ls_ID0000001.out.*"))
    assert records
    for rec in records:
        rec.write_text("invocation: " + "[" * 50_000)
    run = _read(d)[0]
    c = run_counts(run.status)
    assert (len(run), c.failed) == (5, 1) and run.job("ls_ID0000001").status.outcome == "failed"


def test_nesting_bomb_in_braindump(writable_copy) -> None:
    d = writable_copy("process_wf_success")
    (d / "braindump.yml").write_text("a: " + "[" * 50_000)
    with pytest.raises(DataError) as err:
        _read(d)
    assert "unreadable braindump.yml" in _one_line(err)


def test_jobstate_log_with_no_job_lines(writable_copy) -> None:
    d = _without_db(writable_copy, "process_wf_failure")
    (d / "jobstate.log").write_text("garbage\n\x00\x01 not a state line\n")
    for dag in d.glob("*.dag"):
        dag.write_text("# no jobs\n")
    with pytest.raises(DataError) as err:
        _read(d)
    assert "lists no jobs" in _one_line(err)


def test_jobstate_log_with_no_job_lines_but_a_dag(writable_copy) -> None:
    """Jobs planned in the DAG, none started: every job is reported as never submitted."""
    d = _without_db(writable_copy, "process_wf_failure")
    (d / "jobstate.log").write_text("garbage\n")
    run = _read(d)[0]
    c = run_counts(run.status)
    assert (c.total, c.unsubmitted) == (5, 5)


@pytest.mark.parametrize(
    "name, column, value",
    [
        ("hierarchical_wf_success", "jobstate.timestamp", "=1+1"),
        ("hierarchical_wf_success", "dbversion.version_number", ""),
        ("process_wf_success", "workflowstate.timestamp", "\x1b[2J"),
    ],
)
def test_value_of_the_wrong_type(writable_copy, name: str, column: str, value: object) -> None:
    """SQLite keeps a string in a numeric column: a tampered DB is one line, not a traceback."""
    db = _db_copy(writable_copy, name)
    table, col = column.split(".")
    with sqlite3.connect(db) as con:
        con.execute(f"UPDATE {table} SET {col} = ? WHERE rowid = (SELECT MIN(rowid) FROM {table})", (value,))
    with pytest.raises(DataError) as err:
        _read(db)
    msg = _one_line(err)
    assert "wrong type" in msg or "schema version" in msg, msg
