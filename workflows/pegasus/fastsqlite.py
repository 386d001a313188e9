"""The SQLite fast path: the stampede queries read as Arrow columns through ADBC, the state pivot in numpy.

``adbc-driver-sqlite`` runs a query in SQLite's C API and hands back Arrow buffers: no Python
tuple per row (the sqlite3 fetch of ~700,000 jobstate rows was the reader's largest cost). Each
query is one Arrow batch, so the whole query runs inside ``execute_query`` with the GIL released
and SQLite's types are inferred over every row (a batch of 1,024 would infer INT64 from integral
timestamps and fail on a later fractional one).

The jobstate rows are read raw and pivoted here (:func:`pivot`): per try, sorted segments of the
covering primary-key index order, first/last timestamp per state set by ``reduceat``. The
queries are the SQLAlchemy ones of :mod:`.stampede`, compiled for SQLite, so both paths read the
same columns with the same SQL; MySQL and PostgreSQL keep the SQLAlchemy path.

Read-only as the SQLAlchemy path: the URI has ``mode=ro`` (SQLite refuses every write), then
``PRAGMA query_only``; ``busy_timeout`` waits out a monitord commit, and "database is locked"
beyond it is retried by :func:`.connect.with_retry`. The jobstate read runs on a second
connection in a second thread, started after the first connection's first read: its snapshot is
never older than the tries' (as on the SQLAlchemy path, where the pivot is read last).
ADBC brings its own SQLite library: its locks and sqlite3's do not see each other within one
process (POSIX locks are per process), so no sqlite3 connection is open while it reads (the
engine's pool is a NullPool; the schema check has closed its connection).

Measured (``python -m bench.pegasus_read --stages``, 100,000 jobs, 700,000 job states, CPU-s at
load ~4, three runs): jobstate into Arrow .34-.58 and its pivot .05-.08 (second thread); tries,
jobs, edges, invocations into Arrow .04-.12 each, the jobs frame with the edges' byte match
.10-.14; pandas after the frames .25-.35. The whole read: 1.27-1.65 CPU-s, 1.87-2.71 s wall.
Tried and not kept: the state names read as text and matched on their bytes in numpy (~.1 CPU-s
more than the CASE), ``PRAGMA mmap_size`` (no measurable change), jobstate split into two key
ranges, one per connection (0.94x wall at load 4.8).
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import adbc_driver_manager as adbc
import adbc_driver_sqlite
import nanoarrow as na
import numpy as np
import pandas as pd
import sqlalchemy as sa
from flowsleuth.workflows.pegasus import arrowcols as ac
from flowsleuth.workflows.pegasus import tables as t
from sqlalchemy.dialects import sqlite as sqlite_dialect

ONE_BATCH = str(2**31 - 2)  # the driver's largest batch: a query is one batch
BUSY_MS = 250

# The last-state codes of the pivot: name order from 1 (0: a state monitord does not write)
STATE_CODE = {s: i for i, s in enumerate(t.KNOWN_STATES, start=1)}
STATE_SLOTS = 64


# Each try's state times (see derive.py for what each one means): (states, min or max)
STATE_TIMES: dict[str, tuple[tuple[str, ...], str]] = {
    "pre_script_start": ((t.PRE_START,), "min"),
    "pre_script_end": (t.PRE_END_STATES, "max"),
    "submit": ((t.SUBMIT,), "min"),
    "execute_start": ((t.EXECUTE,), "min"),
    "execute_end": (t.JOB_END_STATES, "max"),
    "post_script_start": ((t.POST_START,), "min"),
    "post_script_end": (t.POST_END_STATES, "max"),
    "held_at": ((t.HELD,), "max"),
}
PIVOT_COLUMNS = ["job_instance_id", *STATE_TIMES, "last_ts", "last_state"]
# Every name the pivot tells apart (the state sets hold a few that monitord's list lacks), by index
# from 1; 0: any other name. Per index: its last-state code and its membership of each state set.
_NAMES = list(dict.fromkeys([*t.KNOWN_STATES, *(s for states, _ in STATE_TIMES.values() for s in states)]))
# The index in SQL: a CASE is cheaper than the name's bytes read out and matched here (measured
# ~0.1 CPU-s per 700,000 rows); the WHENs are tested most frequent first.
_STATE_INDEX = sa.case(
    {s: _NAMES.index(s) + 1 for s in dict.fromkeys([*t.FREQUENT_STATES, *_NAMES])},
    value=t.jobstate.c.state,
    else_=0,
)
_LAST_CODE = np.array([0, *(STATE_CODE.get(s, 0) for s in _NAMES)], dtype=np.int64)
_MEMBER = {
    name: np.isin(np.array(["", *_NAMES], dtype=object), list(states))
    for name, (states, _) in STATE_TIMES.items()
}


def _kind(col: sa.ColumnElement[Any]) -> str:
    if isinstance(col.type, sa.Integer):
        return ac.INT
    return ac.FLOAT if isinstance(col.type, sa.Numeric) else ac.TEXT


@functools.lru_cache(maxsize=32)  # the queries are module constants: compiled once, not per run
def _sql(query: sa.Select[Any]) -> str:
    return str(query.compile(dialect=sqlite_dialect.dialect(), compile_kwargs={"literal_binds": True}))


@functools.cache
def _raw_states_query() -> sa.Select[Any]:
    js = t.jobstate
    return sa.select(js.c.job_instance_id, _STATE_INDEX, js.c.timestamp, js.c.jobstate_submit_seq)


class Reader:
    """One read-only ADBC connection to a stampede SQLite file."""

    def __init__(self, path: Path) -> None:
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        self._db = adbc.AdbcDatabase(driver=adbc_driver_sqlite._driver_path(), uri=uri)
        try:
            self._con = adbc.AdbcConnection(self._db)
        except BaseException:
            self._db.close()
            raise
        self._begun = False
        self.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        self.execute("PRAGMA query_only = 1")

    def execute(self, sql: str) -> None:
        st = adbc.AdbcStatement(self._con)
        try:
            st.set_sql_query(sql)
            st.execute_update()
        finally:
            st.close()

    def begin(self) -> None:
        """A read transaction: every query after it sees one snapshot (ended by :meth:`close`)."""
        self.execute("BEGIN")
        self._begun = True

    def _batches(self, sql: str) -> tuple[Any, list[Any]]:
        st = adbc.AdbcStatement(self._con)
        try:
            st.set_options(**{adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value: ONE_BATCH})
            st.set_sql_query(sql)
            handle, _ = st.execute_query()  # the GIL is released while SQLite runs the query
            stream = na.c_array_stream(handle)
            schema, batches = stream.get_schema(), []
            while True:
                try:
                    batches.append(stream.get_next())
                except StopIteration:
                    break
            stream.release()
            return schema, batches
        finally:
            st.close()

    def frame(self, query: sa.Select[Any]) -> pd.DataFrame:
        """A query's rows as a frame, columns named by the query's labels (as stampede._frame)."""
        return _frame(query, self._batches(_sql(query))[1])

    def batches(self, query: sa.Select[Any]) -> list[Any]:
        return [b for b in self._batches(_sql(query))[1] if b.length]

    def raw_states(self) -> dict[str, np.ndarray]:
        """jobstate as arrays: job_instance_id, state (index in ``_NAMES`` from 1, 0: another name),
        timestamp, jobstate_submit_seq (float: NULL -> NaN, exact below 2**53)."""
        _, batches = self._batches(_sql(_raw_states_query()))
        batches = [b for b in batches if b.length]
        kinds = (ac.INT, ac.INT, ac.FLOAT, ac.FLOAT)
        cols = [
            np.concatenate([ac.column(b.child(i), k) for b in batches]) if batches else ac.empty(k)
            for i, k in enumerate(kinds)
        ]
        return dict(zip(("jid", "code", "ts", "seq"), cols, strict=True))

    def close(self) -> None:
        try:
            if self._begun:
                self.execute("ROLLBACK")  # a read transaction: nothing to commit
        finally:
            self._con.close()
            self._db.close()


def _frame(query: sa.Select[Any], batches: list[Any], skip: tuple[str, ...] = ()) -> pd.DataFrame:
    data = {}
    for i, col in enumerate(query.selected_columns):
        if col.name in skip:
            continue
        kind = _kind(col)
        parts = [ac.column(b.child(i), kind) for b in batches if b.length]
        data[col.name] = np.concatenate(parts) if parts else ac.empty(kind)
    return pd.DataFrame(data)


def _ints(batches: list[Any], i: int) -> np.ndarray:
    parts = [ac.column(b.child(i), ac.INT) for b in batches]
    return np.concatenate(parts) if parts else ac.empty(ac.INT)


def jobs_and_edges(
    jobs_query: sa.Select[Any], job_batches: list[Any], edge_query: sa.Select[Any], edge_batches: list[Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The jobs frame, and the edges as job ids (wf_id, parent, child; -1: a name that is no job of
    that workflow), matched on the names' bytes: the ~2 names per edge never become Python strings."""
    jobs = _frame(jobs_query, job_batches)
    names = [c.name for c in edge_query.selected_columns]  # wf_id, parent, child
    edge_wf = _ints(edge_batches, 0)
    job_wf = jobs["wf_id"].to_numpy()
    col = [c.name for c in jobs_query.selected_columns].index("exec_job_id")
    values = jobs["job_id"].to_numpy()
    if job_wf.dtype != np.int64 or edge_wf.dtype != np.int64 or values.dtype != np.int64:
        return jobs, edge_job_ids(_frame(edge_query, edge_batches), jobs)  # NULL ids: pandas matches
    index = ac.ByteIndex(ac.text_parts([b.child(col) for b in job_batches]), job_wf, values)
    if not index.unique:  # two names share a 64-bit key: match decoded names in pandas
        return jobs, edge_job_ids(_frame(edge_query, edge_batches), jobs)
    ids: dict[str, np.ndarray] = {names[0]: edge_wf}
    for i in (1, 2):
        parts = ac.text_parts([b.child(i) for b in edge_batches])
        parts[1].tobytes().decode("utf-8")  # never decoded per name: checked here, as sqlite3 would
        ids[names[i]] = index.lookup(parts, edge_wf)
    return jobs, pd.DataFrame(ids)


def edge_job_ids(edges: pd.DataFrame, jobs: pd.DataFrame) -> pd.DataFrame:
    """Edges by name (wf_id, parent, child exec_job_id) -> by job id (-1: no such job in the workflow)."""
    index = pd.MultiIndex.from_arrays([jobs["wf_id"], jobs["exec_job_id"]])
    ids = jobs["job_id"].to_numpy()
    out = {"wf_id": edges["wf_id"].to_numpy()}
    for end in ("parent", "child"):
        pos = index.get_indexer(pd.MultiIndex.from_arrays([edges["wf_id"], edges[end]]))
        out[end] = np.where(pos >= 0, ids[np.maximum(pos, 0)] if len(ids) else -1, -1)
    return pd.DataFrame(out)


def pivot(raw: dict[str, np.ndarray]) -> pd.DataFrame:
    """Each try's state times, last timestamp and last state code, as the SQL GROUP BY of
    :func:`.stampede._pivot` computes them: min/max timestamp of each state set (NULLs ignored),
    and max(``jobstate_submit_seq`` * 64 + state code): the highest seq, a tie to the later name."""
    jid, code, ts, seq = raw["jid"], raw["code"], raw["ts"], raw["seq"]
    if len(jid) and (np.diff(jid) < 0).any():  # not in key order: sort (stable: ties keep row order)
        order = np.argsort(jid, kind="stable")
        jid, code, ts, seq = jid[order], code[order], ts[order], seq[order]
    if not len(jid):
        return pd.DataFrame(
            {c: ac.empty(ac.INT if c == "job_instance_id" else ac.FLOAT) for c in PIVOT_COLUMNS}
        )
    starts = np.flatnonzero(np.concatenate([[True], jid[1:] != jid[:-1]]))
    out: dict[str, np.ndarray] = {"job_instance_id": jid[starts]}
    present = np.bincount(code, minlength=len(_NAMES) + 1) > 0
    for name, (_, agg) in STATE_TIMES.items():
        if not (_MEMBER[name] & present).any():  # pre-script and held states: absent from most runs
            out[name] = np.full(len(starts), np.nan)
            continue
        reduce = np.fmin if agg == "min" else np.fmax
        out[name] = reduce.reduceat(np.where(_MEMBER[name][code], ts, np.nan), starts)
    out["last_ts"] = np.fmax.reduceat(ts, starts)
    out["last_state"] = np.fmax.reduceat(seq * STATE_SLOTS + _LAST_CODE[code], starts)
    return pd.DataFrame(out)


# Read after jobstate on the second connection. Stage CPU (bench --stages, 100,000 jobs): jobstate
# SQL ~.44 s + pivot ~.05 there; tries, jobs, edges (+ byte match) and invocations ~.55 here.
SECOND: tuple[str, ...] = ()
# Below this (DB + WAL bytes) one connection reads everything: on a 5-job fixture run the second
# connection and its thread cost 1 ms CPU and ~5 ms wall of a 7 ms read (bench.pegasus_scale).
ONE_CONNECTION_BYTES = 4 << 20


def _small(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    try:
        size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    except OSError:
        return False
    return size < ONE_CONNECTION_BYTES


def _first_frames(first: Reader, queries: dict[str, sa.Select[Any]], frames: dict[str, pd.DataFrame]) -> None:
    job_batches = first.batches(queries["jobs"])
    edge_batches = first.batches(queries["edges"])
    for n in queries:
        if n not in ("tries", "jobs", "edges", *SECOND):
            frames[n] = first.frame(queries[n])
    frames["jobs"], frames["edges"] = jobs_and_edges(
        queries["jobs"], job_batches, queries["edges"], edge_batches
    )


def read_frames(path: Path, queries: dict[str, sa.Select[Any]]) -> dict[str, pd.DataFrame]:
    """Every query's frame (edges as job ids, see :func:`jobs_and_edges`) and the pivot ("times").

    Two connections, each in one read transaction, in two threads (SQLite and numpy release the
    GIL). The first reads the tries first; only then does the second begin, so its snapshot is
    never older than the tries' (a try's states are all there). The second reads jobstate and
    pivots it; the first reads the other tables. A small DB (:data:`ONE_CONNECTION_BYTES`) is
    read on the first connection alone, tries then states, in its one snapshot."""
    frames: dict[str, pd.DataFrame] = {}
    second_frames: dict[str, pd.DataFrame] = {}
    errors: list[BaseException] = []

    def second_connection() -> None:
        try:
            second = Reader(path)
            try:
                second.begin()
                second_frames["times"] = pivot(second.raw_states())
                for n in SECOND:
                    second_frames[n] = second.frame(queries[n])
            finally:
                second.close()
        except BaseException as err:  # re-raised in the caller's thread
            errors.append(err)

    first = Reader(path)
    try:
        first.begin()
        frames["tries"] = first.frame(queries["tries"])
        if _small(path):
            frames["times"] = pivot(first.raw_states())
            for n in SECOND:
                frames[n] = first.frame(queries[n])
            _first_frames(first, queries, frames)
            return frames
        worker = threading.Thread(target=second_connection, name="stampede-jobstate", daemon=True)
        worker.start()
        try:
            _first_frames(first, queries, frames)
        finally:
            worker.join()
    finally:
        first.close()
    if errors:
        raise errors[0]
    return {**frames, **second_frames}
