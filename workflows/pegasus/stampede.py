"""Queries over a stampede DB: set-based SELECTs (SQLAlchemy Core), joined in pandas.

One table of queries (:func:`_queries`) serves both read paths:

- **An SQLite file** (the default, what monitord writes): :mod:`.fastsqlite` runs these queries,
  compiled for SQLite, through ADBC into Arrow columns (no Python tuple per row) and pivots the
  raw jobstate rows in numpy, with the jobstate part on a second connection in a second thread.
- **MySQL / PostgreSQL** (and ``FAST_SQLITE = False``): each query through SQLAlchemy into a frame
  (:func:`_frame`); the state pivot (:func:`_pivot`) is one GROUP BY over ``jobstate`` in SQL, with
  a CASE aggregate only for the states the DB holds, read last on a connection of its own.

Both give the same frames and the same Runs (tests/pegasus/test_fast_sqlite.py). Joins run in
pandas: on SQLite, joining 100,000-row derived tables in SQL cost more than the whole read
(measured: automatic indexes on materialised CTEs; joining the tries to the pivot in one GROUP BY
saved nothing).

Measured with sqlite3 (before the fast path; ``python -m bench.pegasus_read --stages``, 100,000
jobs, 700,000 job states): the GROUP BY pivot's SQL and fetch ~30% of the read, the other tables'
rows into Python tuples and frames ~45%. With sqlite3, a raw jobstate read pivoted in numpy was
slower than the GROUP BY (the tuples cost more than the pivot); through ADBC the raw rows arrive
as Arrow buffers and the numpy pivot is cheaper than the GROUP BY. See bench/results/pegasus_read.md.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flowsleuth.workflows.pegasus import fastsqlite
from flowsleuth.workflows.pegasus import tables as t
from flowsleuth.workflows.pegasus.connect import sqlite_file, with_retry
from sqlalchemy.engine import Connection, Engine

_CHUNK = 900
FAST_SQLITE = True  # SQLite files through ADBC (fastsqlite.py); False: SQLAlchemy for every engine
_STATE_SLOTS = 64  # below SQLite's bound-parameter limit on old builds


@dataclass(frozen=True)
class StampedeData:
    workflows: pd.DataFrame  # wf_id, wf_uuid, dax_label, parent_wf_id, submit_dir, start, state, status
    jobs: pd.DataFrame  # one row per job: its last try's times, host, exit code, retries, last state
    edges: pd.DataFrame  # wf_id, parent, child (job_id; -1: a name that is no job of the workflow)
    tasks: pd.DataFrame  # invocations of the last tries, task_submit_seq >= 0
    scripts: pd.DataFrame  # pre/post-script invocations of the last tries (task_submit_seq < 0)


def _rows(con: Connection, query: sa.Select[Any]) -> Sequence[Any]:
    result = con.execute(query)
    try:  # the DBAPI cursor's plain tuples: SQLAlchemy's per-row objects cost more than the query
        return result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()


def _frame(con: Connection, query: sa.Select[Any]) -> pd.DataFrame:
    """A query's rows as a frame, columns named by the query's labels."""
    return pd.DataFrame.from_records(_rows(con, query), columns=[c.name for c in query.selected_columns])


def _first(state: str | Sequence[str], agg: str, present: frozenset[str]) -> sa.ColumnElement[Any]:
    """min (or max) timestamp of the state(s) within a try: the state pivot runs in SQL.
    ORed equalities, not IN: SQLite builds an ephemeral index per IN list (measured ~6% slower).
    A state the DB holds nowhere is a NULL literal: each CASE aggregate costs ~0.1 CPU-s per
    700,000 jobstate rows, and pre-script and held states are absent from most runs."""
    states = [s for s in ([state] if isinstance(state, str) else state) if s in present]
    if not states:
        return sa.null()
    cond = sa.or_(*(t.jobstate.c.state == s for s in states))
    fn = sa.func.max if agg == "max" else sa.func.min
    return fn(sa.case((cond, t.jobstate.c.timestamp)))


def _last_state_code(present: frozenset[str]) -> sa.ColumnElement[Any]:
    """The try's last state in the same GROUP BY pass: highest ``jobstate_submit_seq``; a tie
    (monitord writes JOB_FAILURE and PRE_SCRIPT_FAILED at one seq) goes to the later name.
    The codes follow name order; the WHENs are tested most frequent first (~15% off the pivot),
    and only for the states the DB holds."""
    code = {s: i for i, s in enumerate(t.KNOWN_STATES, start=1)}
    order = [*t.FREQUENT_STATES, *(s for s in t.KNOWN_STATES if s not in t.FREQUENT_STATES)]
    order = [s for s in order if s in present] or order  # no states: no rows, any CASE will do
    whens = {s: code[s] for s in order}
    return sa.func.max(
        t.jobstate.c.jobstate_submit_seq * _STATE_SLOTS + sa.case(whens, value=t.jobstate.c.state, else_=0)
    )


def _decode_states(codes: pd.Series) -> pd.Series:
    """Last-state codes -> state names (None where the try has no state yet)."""
    names = np.array(["UNKNOWN", *t.KNOWN_STATES], dtype=object)
    raw = pd.to_numeric(codes, errors="coerce").to_numpy(dtype=float)
    known = ~np.isnan(raw)
    out = np.full(len(raw), None, dtype=object)
    out[known] = names[raw[known].astype(np.int64) % _STATE_SLOTS]
    return pd.Series(out, index=codes.index)


# Each try's state times, as one GROUP BY over jobstate (see derive.py for what each one means).
_STATE_TIMES: dict[str, tuple[str | tuple[str, ...], str]] = {
    "pre_script_start": (t.PRE_START, "min"),
    "pre_script_end": (t.PRE_END_STATES, "max"),
    "submit": (t.SUBMIT, "min"),
    "execute_start": (t.EXECUTE, "min"),
    "execute_end": (t.JOB_END_STATES, "max"),
    "post_script_start": (t.POST_START, "min"),
    "post_script_end": (t.POST_END_STATES, "max"),
    "held_at": (t.HELD, "max"),
}


def _present_states(con: Connection) -> frozenset[str]:
    """The job states the DB holds: one scan of jobstate's key index (~1/10 of the pivot's cost)."""
    return frozenset(str(s) for (s,) in con.execute(sa.select(t.jobstate.c.state).distinct()) if s)


def _pivot(present: frozenset[str] = frozenset(t.KNOWN_STATES)) -> sa.Select[Any]:
    """Each try's state times and last state: one GROUP BY over jobstate. ``present``: the job
    states the DB holds (no column is computed for a state that is nowhere)."""
    js = t.jobstate
    return sa.select(
        js.c.job_instance_id,
        *(_first(state, agg, present).label(name) for name, (state, agg) in _STATE_TIMES.items()),
        sa.func.max(js.c.timestamp).label("last_ts"),
        _last_state_code(present).label("last_state"),
    ).group_by(js.c.job_instance_id)


@functools.cache  # built (and, on the fast path, compiled) once per process, not per run
def _queries() -> dict[str, sa.Select[Any]]:
    """Every read of a stampede DB but the pivot, by name: plain SELECTs. Shared: never mutate."""
    w, ws, j, ji, h, e, i = (
        t.workflow,
        t.workflowstate,
        t.job,
        t.job_instance,
        t.host,
        t.job_edge,
        t.invocation,
    )
    return {
        "workflows": sa.select(
            w.c.wf_id,
            w.c.wf_uuid,
            w.c.dax_label,
            w.c.dag_file_name,
            w.c.parent_wf_id,
            w.c.root_wf_id,
            w.c.submit_dir,
            w.c.timestamp.label("planned"),
        ),
        "wf_states": sa.select(ws.c.wf_id, ws.c.state, ws.c.timestamp, ws.c.status).order_by(
            ws.c.wf_id, ws.c.timestamp
        ),
        "jobs": sa.select(j.c.job_id, j.c.wf_id, j.c.exec_job_id, j.c.type_desc),
        "tries": sa.select(
            ji.c.job_instance_id,
            ji.c.job_id,
            ji.c.job_submit_seq,
            ji.c.exitcode,
            ji.c.site,
            ji.c.user,
            ji.c.stdout_file,
            h.c.hostname,
        ).select_from(ji.outerjoin(h, h.c.host_id == ji.c.host_id)),
        "edges": sa.select(
            e.c.wf_id, e.c.parent_exec_job_id.label("parent"), e.c.child_exec_job_id.label("child")
        ),
        # task invocations (task_submit_seq >= 0) and failing pre/post scripts, every try
        "invocations": sa.select(
            i.c.job_instance_id,
            i.c.task_submit_seq,
            i.c.remote_cpu_time,
            i.c.exitcode,
            i.c.transformation,
            i.c.executable,
            i.c.argv,
        ).where(sa.or_(i.c.task_submit_seq >= 0, i.c.exitcode != 0)),
    }


def _pivot_frame(engine: Engine) -> pd.DataFrame:
    """The pivot: numbers and NULLs only, so float columns through one numpy call (NULL -> NaN),
    not pandas' per-column type inference; ``job_instance_id`` back to int64 (exact below 2**53).
    On SQLite the state check and the pivot share one read transaction: a state monitord writes
    between them cannot be missed by the pivot (the driver begins none for SELECTs)."""
    with engine.connect() as con:
        if con.dialect.name == "sqlite":
            con.exec_driver_sql("BEGIN")  # a read transaction; ended (rolled back) when con closes
        query = _pivot(_present_states(con))
        rows = _rows(con, query)
    return _float_frame(rows, [c.name for c in query.selected_columns])


def _float_frame(rows: Sequence[Any], names: list[str]) -> pd.DataFrame:
    values = np.array(rows, dtype=float).reshape(len(rows), len(names))
    frame = pd.DataFrame(values, columns=names)
    frame["job_instance_id"] = values[:, 0].astype(np.int64)
    return frame


def _read_frames(engine: Engine, name: str) -> dict[str, pd.DataFrame]:
    """Every query's frame ("times": the pivot). An SQLite file: the fast path (fastsqlite.py).
    Other engines: one query after another through SQLAlchemy, the pivot last, so its view of a
    live DB is never older than the tries'."""
    path = sqlite_file(engine) if FAST_SQLITE else None
    if path is not None:
        return with_retry(name, lambda: fastsqlite.read_frames(path, _queries()))

    def once() -> dict[str, pd.DataFrame]:
        with engine.connect() as con:
            frames = {n: _frame(con, q) for n, q in _queries().items()}
        frames["edges"] = fastsqlite.edge_job_ids(frames["edges"], frames["jobs"])
        frames["times"] = _pivot_frame(engine)
        return frames

    return with_retry(name, once)


def _workflows(wf: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    started = states[states["state"] == "WORKFLOW_STARTED"].groupby("wf_id")["timestamp"].min()
    last = states.groupby("wf_id").tail(1).set_index("wf_id")
    wf = wf.copy()
    wf["start"] = wf["wf_id"].map(started).astype(float)
    wf["state"] = wf["wf_id"].map(last["state"])
    wf["status"] = wf["wf_id"].map(last["status"])
    return wf


def _jobs(jobs: pd.DataFrame, tries: pd.DataFrame, times: pd.DataFrame) -> pd.DataFrame:
    """One row per job: its last try (highest ``job_submit_seq``) with that try's state times."""
    times = times.assign(state=_decode_states(times.pop("last_state")))
    tries = tries.merge(times, on="job_instance_id", how="left")
    if tries["job_id"].is_unique:  # no retries (the common case): one try per job, none before it
        last = tries.drop(columns=["last_ts"]).assign(previous_end=np.nan, tries=1)
        return jobs.merge(last, on="job_id", how="left")
    tries = tries.sort_values(["job_id", "job_submit_seq"])
    count = tries.groupby("job_id").size().rename("tries")
    # A retry is ready when the try before it ended (that try's last recorded state).
    earlier = tries.groupby("job_id")["last_ts"].shift(1)
    tries["previous_end"] = earlier.groupby(tries["job_id"]).cummax()
    last = tries.drop_duplicates("job_id", keep="last").drop(columns=["last_ts"])
    return jobs.merge(last, on="job_id", how="left").merge(
        count, left_on="job_id", right_index=True, how="left"
    )


def _sorted(first: np.ndarray, second: np.ndarray) -> bool:
    """Rows already in (first, second) order (monitord writes invocations in that order)."""
    if len(first) < 2:
        return True
    step, then = np.diff(first), np.diff(second)
    return bool(((step > 0) | ((step == 0) & (then >= 0))).all())


def read_stampede(engine: Engine, name: str) -> StampedeData:
    f = _read_frames(engine, name)
    jobs = _jobs(f["jobs"], f["tries"], f["times"])
    inv = f["invocations"]
    inv = inv[inv["job_instance_id"].isin(jobs["job_instance_id"].dropna())]
    if not _sorted(inv["job_instance_id"].to_numpy(), inv["task_submit_seq"].to_numpy()):
        inv = inv.sort_values(["job_instance_id", "task_submit_seq"], kind="stable")
    return StampedeData(
        workflows=_workflows(f["workflows"], f["wf_states"]),
        jobs=jobs,
        edges=f["edges"],
        tasks=inv[inv["task_submit_seq"] >= 0],
        scripts=inv[inv["task_submit_seq"] < 0],
    )


def read_texts(engine: Engine, name: str, instance_ids: Sequence[int]) -> pd.DataFrame:
    """stdout/stderr texts and held reasons of a few job instances (the problem jobs only)."""
    ji, js = t.job_instance, t.jobstate
    ids = [int(i) for i in instance_ids]
    empty = pd.DataFrame(columns=["job_instance_id", "stdout_text", "stderr_text", "held_reason"])
    if not ids:
        return empty

    def read() -> pd.DataFrame:
        parts, reasons = [], []
        with engine.connect() as con:
            for k in range(0, len(ids), _CHUNK):
                chunk = ids[k : k + _CHUNK]
                texts = sa.select(ji.c.job_instance_id, ji.c.stdout_text, ji.c.stderr_text)
                parts.append(_frame(con, texts.where(ji.c.job_instance_id.in_(chunk))))
                held = (
                    sa.select(js.c.job_instance_id, js.c.reason.label("held_reason"))
                    .where(js.c.job_instance_id.in_(chunk), js.c.state == t.HELD)
                    .order_by(js.c.timestamp)
                )
                reasons.append(_frame(con, held))
        held_reasons = pd.concat(reasons).groupby("job_instance_id").tail(1)
        return pd.concat(parts).merge(held_reasons, on="job_instance_id", how="left")

    return with_retry(name, read)
