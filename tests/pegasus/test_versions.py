"""Stampede DBs of older Pegasus releases: 4.9.x wrote schema version 11, 5.0.0 version 13.
Each is the fixture DB taken back to what that version had (no trigger table before 14, no
invocation.maxrss/avg_cpu before 13) and reads as the same runs, on both read paths."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from flowsleuth.workflows.pegasus import iter_pegasus_runs
from flowsleuth.workflows.pegasus import stampede as st

from .conftest import FIXTURES

DBS = {p.parent.name: p for p in sorted(FIXTURES.glob("*/*.stampede.db"))}


def _as_version(src: Path, version: int, into: Path) -> Path:
    db = Path(shutil.copy(src, into / src.name))
    db.chmod(0o644)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE dbversion SET version = ?, version_number = ?", (str(version), version))
        if version < 14:
            con.execute('DROP TABLE "trigger"')
        if version < 13:
            con.execute("ALTER TABLE invocation DROP COLUMN maxrss")
            con.execute("ALTER TABLE invocation DROP COLUMN avg_cpu")
    return db


@pytest.mark.parametrize("fast", [True, False], ids=["adbc", "sqlalchemy"])
@pytest.mark.parametrize("version", [11, 12, 13])
@pytest.mark.parametrize("name", ["hierarchical_wf_failure", "sample_wf_held"])
def test_an_older_schema_reads_as_the_same_runs(
    name: str, version: int, fast: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(st, "FAST_SQLITE", fast)
    lone = Path(shutil.copy(DBS[name], tmp_path / "current.stampede.db"))  # no submit dir either
    (tmp_path / "old").mkdir()
    old = list(iter_pegasus_runs(_as_version(DBS[name], version, tmp_path / "old")))
    new = list(iter_pegasus_runs(lone))
    assert len(old) == len(new) > 0
    for a, b in zip(old, new, strict=True):
        assert (a.workflow, a.run_id, a.parent_run) == (b.workflow, b.run_id, b.parent_run)
        pd.testing.assert_frame_equal(a.frame, b.frame)
        pd.testing.assert_frame_equal(a.status, b.status)
