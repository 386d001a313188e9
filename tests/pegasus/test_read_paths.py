"""The reader's fast paths give what plain pandas gives: the SQL state pivot, restricted to the states
a DB holds and read as floats on its own connection, equals a pivot of the raw jobstate rows in
pandas; edge ends located by one factorize equal ``get_indexer``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flowsleuth.workflows.loader import iter_runs
from flowsleuth.workflows.pegasus import stampede as st
from flowsleuth.workflows.pegasus import tables as t
from flowsleuth.workflows.pegasus.connect import open_engine
from flowsleuth.workflows.pegasus.derive import _positions
from flowsleuth.workflows.pegasus.writer import write_stampede

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pegasus"

DBS = sorted(FIXTURES.glob("*/*.stampede.db"))
SAMPLE = Path(__file__).resolve().parents[2] / "workflows" / "sample" / "runs"


def _reference_pivot(db: Path) -> pd.DataFrame:
    """The pivot computed in pandas from the raw jobstate rows: an oracle independent of the SQL."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        raw = pd.read_sql("SELECT job_instance_id, state, timestamp, jobstate_submit_seq FROM jobstate", con)
    raw["timestamp"] = raw["timestamp"].astype(float)
    g = raw.groupby("job_instance_id")
    out = pd.DataFrame(index=pd.Index(sorted(raw["job_instance_id"].unique()), name="job_instance_id"))
    for name, (states, agg) in st._STATE_TIMES.items():
        sel = raw[raw["state"].isin([states] if isinstance(states, str) else states)]
        out[name] = sel.groupby("job_instance_id")["timestamp"].agg(agg).reindex(out.index).astype(float)
    out["last_ts"] = g["timestamp"].max().astype(float)
    last = (
        raw.sort_values(["job_instance_id", "jobstate_submit_seq", "state"])
        .groupby("job_instance_id")
        .tail(1)
    )
    out["state"] = last.set_index("job_instance_id")["state"]
    return out.reset_index()


@pytest.fixture(scope="module")
def flowbench_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample Flow-Bench runs written as monitord would: pre-script states included."""
    runs = list(iter_runs(SAMPLE))
    assert sum(int(r.frame["pre_script_start"].notna().sum()) for r in runs) > 0
    db = tmp_path_factory.mktemp("paths") / "flowbench.stampede.db"
    write_stampede(db, runs, {r.run_id: [] for r in runs})
    return db


@pytest.mark.parametrize("name", [*(p.parent.name for p in DBS), "flowbench"])
def test_pivot_equals_the_full_pivot(name: str, flowbench_db: Path) -> None:
    db = flowbench_db if name == "flowbench" else next(p for p in DBS if p.parent.name == name)
    engine, _ = open_engine(db)
    with engine.connect() as con:
        present = st._present_states(con)
    assert present and present < set(t.KNOWN_STATES)  # some states are absent, so some columns are skipped
    fast, ref = st._pivot_frame(engine), _reference_pivot(db)
    assert fast["job_instance_id"].dtype == np.int64
    fast = fast.assign(state=st._decode_states(fast.pop("last_state")).astype(object))
    pd.testing.assert_frame_equal(fast, ref.astype({"state": object}), check_dtype=False)


def test_held_and_failed_tries_keep_their_states() -> None:
    """The fixtures' held and failed tries: the restricted pivot still sees JOB_HELD and failures."""
    engine, _ = open_engine(FIXTURES / "sample_wf_held" / "Drug-Combination-Therapy-0.stampede.db")
    assert st._pivot_frame(engine)["held_at"].notna().any()
    engine, _ = open_engine(FIXTURES / "process_wf_failure" / "process-0.stampede.db")
    states = st._decode_states(st._pivot_frame(engine)["last_state"])
    assert "POST_SCRIPT_FAILED" in set(states)


def test_positions_equal_get_indexer() -> None:
    names = pd.Index(["a", "b", "c", "d"], dtype="str")
    parent = pd.Series(["b", "x", "d", None, "a"], dtype="str")
    child = pd.Series(["c", "c", "a", "b", "zz"], dtype="str")
    got = _positions(names, parent, child)
    assert [g.tolist() for g in got] == [names.get_indexer(pd.Index(r)).tolist() for r in (parent, child)]
    assert got[0].tolist() == [1, -1, 3, -1, 0]


def test_positions_with_repeated_names_fail_like_get_indexer() -> None:
    names = pd.Index(["a", "a", "b"], dtype="str")
    with pytest.raises(pd.errors.InvalidIndexError):
        _positions(names, pd.Series(["a"], dtype="str"))


def test_a_state_written_between_the_check_and_the_pivot_is_not_lost(writable_copy, monkeypatch) -> None:
    """monitord commits a first JOB_HELD right after the DISTINCT check: the check and the pivot
    share one read transaction, so the pivot either sees the state with the check or the write
    waits (here it fails at once: timeout 0); never a held column skipped for a state that is there."""
    db = writable_copy("process_wf_success") / "process-0.stampede.db"
    check = st._present_states
    wrote: list[bool] = []

    def check_then_write(con):
        present = check(con)
        writer = sqlite3.connect(db, timeout=0)
        try:
            writer.execute(
                "INSERT INTO jobstate (job_instance_id, state, timestamp, jobstate_submit_seq) "
                "SELECT job_instance_id, 'JOB_HELD', max(timestamp) + 1, max(jobstate_submit_seq) + 1 "
                "FROM jobstate GROUP BY job_instance_id LIMIT 1"
            )
            writer.commit()
            wrote.append(True)
        except sqlite3.OperationalError:  # database is locked: our read transaction holds it
            wrote.append(False)
        finally:
            writer.close()
        return present

    monkeypatch.setattr(st, "_present_states", check_then_write)
    engine, _ = open_engine(db)
    held = st._pivot_frame(engine)["held_at"]
    assert wrote == [False] and held.isna().all()
    monkeypatch.setattr(st, "_present_states", check)
    sqlite3.connect(db).close()
    assert st._pivot_frame(engine)["held_at"].isna().all()  # nothing was written
