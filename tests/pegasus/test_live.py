"""Following a live stampede DB: finished and held jobs, stalls, a DB deleted or replaced."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.pegasus.live import StampedeFollower

CUT = 1677913859  # process_wf_failure: ls_ID0000001's first try has just started executing


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _rewind(db: Path) -> tuple[list[tuple], list[tuple]]:
    """Make the DB look as monitord left it at CUT; return the rows to replay later."""
    with sqlite3.connect(db) as con:
        states = con.execute("SELECT * FROM jobstate WHERE timestamp > ?", (CUT,)).fetchall()
        inst = con.execute("SELECT * FROM job_instance WHERE job_instance_id = 3").fetchall()
        exit2 = con.execute("SELECT exitcode FROM job_instance WHERE job_instance_id = 2").fetchone()[0]
        con.execute("DELETE FROM jobstate WHERE timestamp > ?", (CUT,))
        con.execute("DELETE FROM invocation WHERE job_instance_id IN (2, 3)")
        con.execute("DELETE FROM job_instance WHERE job_instance_id = 3")
        con.execute("UPDATE job_instance SET exitcode = NULL WHERE job_instance_id = 2")
    return states, [*inst, ("exit2", exit2)]


def _replay(db: Path, states: list[tuple], inst: list[tuple]) -> None:
    with sqlite3.connect(db) as con:
        con.executemany(f"INSERT INTO jobstate VALUES ({','.join('?' * len(states[0]))})", states)
        row = inst[0]
        con.execute(f"INSERT INTO job_instance VALUES ({','.join('?' * len(row))})", row)
        con.execute("UPDATE job_instance SET exitcode = ? WHERE job_instance_id = 2", (inst[1][1],))


@pytest.fixture
def live_db(writable_copy) -> Path:
    return next(writable_copy("process_wf_failure").glob("*.stampede.db"))


def test_follow_finish_stall_and_failure(live_db: Path) -> None:
    states, inst = _rewind(live_db)
    clock = Clock()
    f = StampedeFollower(str(live_db.parent), stall_after_s=600, clock=clock)
    first = list(f.poll())
    assert [(e.kind, e.job_ids) for e in first] == [("finished", ("create_dir_process_0_local",))]
    clock.now += 300
    assert list(f.poll()) == []  # nothing changed, not yet a stall
    clock.now += 301
    stall = list(f.poll())
    assert [(e.kind, e.job_ids) for e in stall] == [("stall", ("ls_ID0000001",))]
    assert "10.0 min" in stall[0].detail
    assert list(f.poll()) == []  # one stall line, not one per poll
    _replay(live_db, states, inst)
    done = list(f.poll())
    assert [(e.kind, e.job_ids) for e in done] == [("finished", ("ls_ID0000001",))]
    assert done[0].run.status_of("ls_ID0000001").outcome == "failed"  # type: ignore[union-attr]


def test_held_event(writable_copy) -> None:
    db = next(writable_copy("sample_wf_held").glob("*.stampede.db"))
    events = list(StampedeFollower(str(db), stall_after_s=60).poll())
    assert ("held", ("chebi_drug_loader_ID0000001",)) in [(e.kind, e.job_ids) for e in events]


def test_db_deleted_mid_watch(live_db: Path) -> None:
    f = StampedeFollower(str(live_db), stall_after_s=60)
    list(f.poll())
    live_db.unlink()
    with pytest.raises(DataError, match="stampede DB is gone"):
        list(f.poll())


def test_db_rotated_mid_watch(live_db: Path, tmp_path: Path) -> None:
    f = StampedeFollower(str(live_db), stall_after_s=60)
    list(f.poll())
    fresh = tmp_path / "new.db"
    shutil.copy(live_db, fresh)
    live_db.unlink()
    fresh.rename(live_db)
    with pytest.raises(DataError, match="was replaced"):
        list(f.poll())
