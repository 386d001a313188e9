"""The SQLite fast path (ADBC + numpy pivot) gives what the SQLAlchemy path gives, read-only.

Both paths are run on the same file: every frame equal (numbers compared as values: a Numeric
column of whole numbers is int64 through sqlite3 and float64 here), every Run equal (frame and
status, exactly), on the five real fixtures, the Flow-Bench sample written as monitord would,
and a DB with the awkward cases (retries, held, NULL hosts, unknown states, fractional timestamps
after 2,000 whole ones, edges to names that are no job).
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.loader import iter_runs
from flowsleuth.workflows.pegasus import arrowcols as ac
from flowsleuth.workflows.pegasus import connect, iter_pegasus_runs
from flowsleuth.workflows.pegasus import fastsqlite as fs
from flowsleuth.workflows.pegasus import stampede as st
from flowsleuth.workflows.pegasus.connect import open_engine
from flowsleuth.workflows.pegasus.writer import write_stampede

from .conftest import FIXTURES
from .test_read_paths import _reference_pivot
from .test_roundtrip import _edges

SAMPLE = Path(__file__).resolve().parents[2] / "workflows" / "sample" / "runs"
DBS = {p.parent.name: p for p in sorted(FIXTURES.glob("*/*.stampede.db"))}


def _awkward(db: Path) -> None:
    """Add to a written DB what monitord writes on a bad day."""
    with sqlite3.connect(db) as con:
        (ji,) = con.execute("SELECT max(job_instance_id) FROM job_instance").fetchone()
        (job,) = con.execute("SELECT min(job_id) FROM job").fetchone()
        # a retry of one job: a second try, failed, then held, on an unknown host
        con.execute(
            "INSERT INTO job_instance (job_instance_id, job_id, host_id, job_submit_seq, "
            "multiplier_factor, exitcode) VALUES (?, ?, NULL, 2, 1, 256)",
            (ji + 1, job),
        )
        rows = [
            (ji + 1, "SUBMIT", 1.7e9 + 0.25, 1),
            (ji + 1, "EXECUTE", 1.7e9 + 1.5, 2),
            (ji + 1, "JOB_FAILURE", 1.7e9 + 9.125, 3),
            (ji + 1, "POST_SCRIPT_FAILED", 1.7e9 + 9.125, 3),  # the same seq: the later name wins
            (ji + 1, "SOMETHING_NEW", 1.7e9 + 10, 4),  # a state monitord does not write (code 0)
            (ji + 1, "JOB_HELD", 1.7e9 + 10.5, 5),
        ]
        con.executemany(
            "INSERT INTO jobstate (job_instance_id, state, timestamp, jobstate_submit_seq) VALUES (?,?,?,?)",
            rows,
        )
        wf = con.execute("SELECT wf_id FROM job WHERE job_id = ?", (job,)).fetchone()[0]
        con.execute(
            "INSERT INTO job_edge VALUES (?, 'no_such_job', (SELECT exec_job_id FROM job WHERE job_id = ?))",
            (wf, job),
        )


@pytest.fixture(scope="module")
def flowbench_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = list(iter_runs(SAMPLE))
    db = tmp_path_factory.mktemp("fast") / "flowbench.stampede.db"
    write_stampede(db, runs, {r.run_id: _edges(r) for r in runs})
    return db


@pytest.fixture(scope="module")
def awkward_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,500 jobs with whole-second timestamps (more than SQLite's first 1,024-row batch would
    type), then the awkward rows with fractional ones."""
    ids = [f"task_ID{i:05d}" for i in range(2500)]
    f = pd.DataFrame(index=pd.Index(ids, name="job_id"))
    runs = list(iter_runs(SAMPLE))
    for c in runs[0].frame.columns:
        f[c] = np.nan if runs[0].frame[c].dtype.kind == "f" else ""
    f["ready"] = 1.6e9 + np.arange(2500)
    f["submit"], f["execute_start"], f["execute_end"] = f["ready"] + 1, f["ready"] + 2, f["ready"] + 9
    f["type"], f["kickstart_hostname"] = "compute", "worker"
    from flowsleuth.workflows.models import Run

    run = Run("synthetic", "awkward-0000", "synthetic", f)
    db = tmp_path_factory.mktemp("fast") / "awkward.stampede.db"
    write_stampede(db, [run], {run.run_id: [(ids[i], ids[i + 1]) for i in range(0, 2499, 2)]})
    _awkward(db)
    return db


def _both(db: Path, fn, monkeypatch: pytest.MonkeyPatch):
    fast = fn()
    monkeypatch.setattr(st, "FAST_SQLITE", False)
    slow = fn()
    monkeypatch.setattr(st, "FAST_SQLITE", True)
    return fast, slow


def _db(name: str, flowbench_db: Path, awkward_db: Path) -> Path:
    return {"flowbench": flowbench_db, "awkward": awkward_db}.get(name) or DBS[name]


NAMES = [*DBS, "flowbench", "awkward"]


@pytest.mark.parametrize("name", NAMES)
def test_frames_equal_the_sqlalchemy_frames(name, flowbench_db, awkward_db, monkeypatch) -> None:
    db = _db(name, flowbench_db, awkward_db)
    engine, _ = open_engine(db)
    fast, slow = _both(db, lambda: st._read_frames(engine, "db"), monkeypatch)
    assert fast.keys() == slow.keys()
    for key in slow:
        a, b = fast[key], slow[key]
        if key == "times":
            a, b = (x.sort_values("job_instance_id", ignore_index=True) for x in (a, b))
        assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0, key
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=key)
        for c in a.columns:  # numbers stay numbers, text stays text
            assert (a[c].dtype.kind in "if") == (b[c].dtype.kind in "if"), (key, c)


@pytest.mark.parametrize("name", NAMES)
def test_one_connection_reads_what_two_read(name, flowbench_db, awkward_db, monkeypatch) -> None:
    """A small DB is read on one connection; a large one on two, in two threads: the same frames."""
    db = _db(name, flowbench_db, awkward_db)
    monkeypatch.setattr(fs, "ONE_CONNECTION_BYTES", 1 << 40)
    assert fs._small(db)
    one = fs.read_frames(db, st._queries())
    monkeypatch.setattr(fs, "ONE_CONNECTION_BYTES", 0)
    assert not fs._small(db)
    two = fs.read_frames(db, st._queries())
    assert one.keys() == two.keys()
    for key in one:
        pd.testing.assert_frame_equal(one[key], two[key], obj=key)


@pytest.mark.parametrize("name", NAMES)
def test_runs_equal_the_sqlalchemy_runs(name, flowbench_db, awkward_db, monkeypatch) -> None:
    db = _db(name, flowbench_db, awkward_db)
    fast, slow = _both(db, lambda: list(iter_pegasus_runs(db)), monkeypatch)
    assert len(fast) == len(slow) > 0
    for a, b in zip(fast, slow, strict=True):
        assert (a.workflow, a.run_id, a.parent_run) == (b.workflow, b.run_id, b.parent_run)
        pd.testing.assert_frame_equal(a.frame, b.frame)
        pd.testing.assert_frame_equal(a.status, b.status)


def test_the_awkward_cases_come_through(awkward_db: Path) -> None:
    run = next(iter(iter_pegasus_runs(awkward_db)))
    job = run.status[run.status["retries"] == 1]
    assert len(job) == 1 and bool(job["held"].iloc[0])
    assert job["state"].iloc[0] == "JOB_HELD"  # the highest seq
    name = job.index[0]
    assert run.frame.loc[name, "execute_end"] == pytest.approx(1.7e9 + 9.125)
    assert run.frame.loc[name, "runtime"] == pytest.approx(7.625)
    assert run.frame.loc[name, "kickstart_hostname"] == "unknown"


@pytest.mark.parametrize("name", [*DBS, "flowbench"])
def test_numpy_pivot_equals_the_reference_pivot(name, flowbench_db) -> None:
    db = flowbench_db if name == "flowbench" else DBS[name]
    reader = fs.Reader(db)
    try:
        raw = reader.raw_states()
    finally:
        reader.close()
    ref = _reference_pivot(db)
    rng = np.random.default_rng(0)
    for shuffled in (False, True):  # rows out of key order are sorted first
        order = rng.permutation(len(raw["jid"])) if shuffled else np.arange(len(raw["jid"]))
        got = fs.pivot({k: v[order] for k, v in raw.items()})
        got = got.assign(state=st._decode_states(got.pop("last_state")).astype(object))
        pd.testing.assert_frame_equal(got, ref.astype({"state": object}), check_dtype=False)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_only_never_writes(writable_copy) -> None:
    db = next(writable_copy("process_wf_failure").glob("*.stampede.db"))
    before, listing = _digest(db), sorted(p.name for p in db.parent.iterdir())
    reader = fs.Reader(db)
    try:
        with pytest.raises(Exception, match="readonly|read-only|query_only"):
            reader.execute("INSERT INTO dbversion (version_number) VALUES (99)")
        assert len(reader.frame(st._queries()["jobs"])) == 5
    finally:
        reader.close()
    list(iter_pegasus_runs(db))
    assert _digest(db) == before and sorted(p.name for p in db.parent.iterdir()) == listing


# monitord is another process: SQLite's POSIX locks do not conflict within one process when two
# SQLite libraries (sqlite3's and ADBC's) open one file, so the writer must run apart.
_HOLD = (
    "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); c.execute('BEGIN EXCLUSIVE'); "
    "print('locked', flush=True); time.sleep(float(sys.argv[2])); c.rollback()"
)


def _hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_fast_path_waits_out_a_writer(writable_copy) -> None:
    db = next(writable_copy("process_wf_success").glob("*.stampede.db"))
    engine, _ = open_engine(db)
    proc = _hold_lock(db, 0.6)
    t0 = time.monotonic()
    frames = st._read_frames(engine, "db")
    assert len(frames["jobs"]) == 5 and time.monotonic() - t0 >= 0.4
    proc.wait(timeout=10)


def test_fast_path_locked_for_good(writable_copy, monkeypatch: pytest.MonkeyPatch) -> None:
    db = next(writable_copy("process_wf_success").glob("*.stampede.db"))
    engine, _ = open_engine(db)
    monkeypatch.setattr(connect, "LOCK_RETRIES", 2)
    monkeypatch.setattr(connect, "LOCK_WAIT_S", 0.05)
    proc = _hold_lock(db, 5)
    try:
        with pytest.raises(DataError) as err:
            st._read_frames(engine, "db")
        assert "database is locked (still, after 2 tries)" in str(err.value)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _parts(texts: list[str | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    enc = [(t or "").encode() for t in texts]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in enc])]).astype(np.int64)
    return offsets, np.frombuffer(b"".join(enc), dtype=np.uint8), np.array([t is not None for t in texts])


def test_byte_index_compares_every_byte() -> None:
    long = "x" * 40
    keys = [long + "a", long + "b", "short", "é-utf8", "short"]
    groups = np.array([1, 1, 1, 1, 2])
    values = np.array([10, 11, 12, 13, 14])
    queries = [long + "b", long + "a", long + "c", "short", "short", None, "é-utf8", "shor"]
    qgroups = np.array([1, 1, 1, 1, 2, 1, 1, 1])
    index = ac.ByteIndex(_parts(keys), groups, values)
    assert index.unique
    got = index.lookup(_parts(queries), qgroups)
    assert got.tolist() == [11, 10, -1, 12, 14, -1, 13, -1]
    assert not ac.ByteIndex(_parts(["a", "a"]), np.array([1, 1]), np.array([1, 2])).unique


def test_edge_ids_by_name_equal_the_byte_match(awkward_db: Path) -> None:
    reader = fs.Reader(awkward_db)
    try:
        q = st._queries()
        jb, eb = reader.batches(q["jobs"]), reader.batches(q["edges"])
        jobs, fast = fs.jobs_and_edges(q["jobs"], jb, q["edges"], eb)
        slow = fs.edge_job_ids(reader.frame(q["edges"]), jobs)
    finally:
        reader.close()
    pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
    assert (fast["parent"] == -1).sum() == 1  # the edge from 'no_such_job'


@pytest.mark.parametrize("collide", [False, True])
def test_strings_of_few_values_decode_once_and_exactly(collide, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hosts, sites, types: each distinct value decoded once. With every 64-bit key the same (as if
    all collided), the word-by-word check refuses the grouping and every row is decoded."""
    if collide:
        monkeypatch.setattr(ac, "_hash", lambda w, lengths, group: np.zeros(len(lengths), dtype=np.uint64))
    values = ["worker1", "worker2", "", "wörker-é", "worker1-with-a-longer-name", "worker"]
    texts = [values[i % len(values)] for i in range(10_000)]
    offsets, data, _ = _parts(texts)
    got = ac._strings(offsets, data)
    assert got.dtype == object and got.tolist() == texts
    if not collide:  # one str object per distinct value
        assert len({id(x) for x in got.tolist()}) == len(values)


def test_byte_index_with_colliding_keys_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ac, "_hash", lambda w, lengths, group: np.zeros(len(lengths), dtype=np.uint64))
    assert not ac.ByteIndex(_parts(["a", "b"]), np.array([1, 1]), np.array([1, 2])).unique


@pytest.mark.parametrize(
    "sql, says",
    [
        ("UPDATE job_edge SET parent_exec_job_id = CAST(X'68C3FF28' AS TEXT)", "not valid UTF-8"),
        ("UPDATE job_instance SET exitcode = 'abc' WHERE rowid = 1", "wrong type"),
        ("UPDATE invocation SET remote_cpu_time = '=1+1' WHERE rowid = 1", "wrong type"),
    ],
)
def test_tampered_values_on_the_fast_path(writable_copy, sql: str, says: str) -> None:
    """What the fast path never turns into Python objects (edge names) or reads as numbers is still
    checked: bytes that are not UTF-8, text in a number column: one clear line each."""
    db = next(writable_copy("process_wf_failure").glob("*.stampede.db"))
    with sqlite3.connect(db) as con:
        con.execute(sql)
    with pytest.raises(DataError) as err:
        list(iter_pegasus_runs(db))
    assert says in str(err.value) and "\n" not in str(err.value)
