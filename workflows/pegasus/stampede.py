"""Queries over a stampede DB: one table each for workflows, jobs (last try), edges, tasks, held
states and output texts. All reads are SELECTs through SQLAlchemy Core; state pivots run in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from flowsleuth.workflows.pegasus import tables as t
from flowsleuth.workflows.pegasus.connect import with_retry
from sqlalchemy.engine import Connection, Engine

_CHUNK = 900
_STATE_SLOTS = 64  # below SQLite's bound-parameter limit on old builds


@dataclass(frozen=True)
class StampedeData:
    workflows: pd.DataFrame  # wf_id, wf_uuid, dax_label, parent_wf_id, submit_dir, start, state, status
    jobs: pd.DataFrame  # one row per job: its last try's times, host, exit code, retries, last state
    edges: pd.DataFrame  # wf_id, parent, child (exec_job_id)
    tasks: pd.DataFrame  # invocations of the last tries, task_submit_seq >= 0
    scripts: pd.DataFrame  # pre/post-script invocations of the last tries (task_submit_seq < 0)


def _frame(con: Connection, query: sa.Select | sa.TextClause, columns: Sequence[str]) -> pd.DataFrame:
    result = con.execute(query)
    try:  # the DBAPI cursor's plain tuples: SQLAlchemy's per-row objects cost more than the query
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    return pd.DataFrame.from_records(rows, columns=list(columns))


def _first(state: str | Sequence[str], agg: str = "min") -> sa.ColumnElement[Any]:
    """min (or max) timestamp of the state(s) within a try: the state pivot runs in SQL."""
    cond = t.jobstate.c.state == state if isinstance(state, str) else t.jobstate.c.state.in_(state)
    fn = sa.func.max if agg == "max" else sa.func.min
    return fn(sa.case((cond, t.jobstate.c.timestamp)))


def _last_state_code() -> sa.ColumnElement[Any]:
    """The try's last state in the same GROUP BY pass: highest ``jobstate_submit_seq``; a tie
    (monitord writes JOB_FAILURE and PRE_SCRIPT_FAILED at one seq) goes to the later name."""
    code = sa.case({s: i for i, s in enumerate(t.KNOWN_STATES, start=1)}, value=t.jobstate.c.state, else_=0)
    return sa.func.max(t.jobstate.c.jobstate_submit_seq * _STATE_SLOTS + code)


def _decode_state(value: object) -> str | None:
    if value is None or value != value:
        return None
    i = int(value) % _STATE_SLOTS  # type: ignore[call-overload]
    return t.KNOWN_STATES[i - 1] if i else "UNKNOWN"


def _workflows(con: Connection) -> pd.DataFrame:
    w, ws = t.workflow, t.workflowstate
    wf = _frame(
        con,
        sa.select(
            w.c.wf_id,
            w.c.wf_uuid,
            w.c.dax_label,
            w.c.dag_file_name,
            w.c.parent_wf_id,
            w.c.root_wf_id,
            w.c.submit_dir,
            w.c.timestamp,
        ),
        [
            "wf_id",
            "wf_uuid",
            "dax_label",
            "dag_file_name",
            "parent_wf_id",
            "root_wf_id",
            "submit_dir",
            "planned",
        ],
    )
    states = _frame(
        con,
        sa.select(ws.c.wf_id, ws.c.state, ws.c.timestamp, ws.c.status).order_by(ws.c.wf_id, ws.c.timestamp),
        ["wf_id", "state", "timestamp", "status"],
    )
    started = states[states["state"] == "WORKFLOW_STARTED"].groupby("wf_id")["timestamp"].min()
    last = states.groupby("wf_id").tail(1).set_index("wf_id")
    wf["start"] = wf["wf_id"].map(started).astype(float)
    wf["state"] = wf["wf_id"].map(last["state"])
    wf["status"] = wf["wf_id"].map(last["status"])
    return wf


def _jobs(con: Connection) -> pd.DataFrame:
    """One row per job: its last try (highest ``job_submit_seq``) with that try's state times.

    Plain SELECTs and GROUP BYs only (joins run in pandas): on SQLite they are the fast path."""
    j, ji, js, h = t.job, t.job_instance, t.jobstate, t.host
    jq = sa.select(
        j.c.job_id, j.c.wf_id, j.c.exec_job_id, j.c.type_desc, j.c.clustered, j.c.executable, j.c.argv
    )
    jobs = _frame(con, jq, [c.name for c in jq.selected_columns])
    iq = sa.select(
        ji.c.job_instance_id,
        ji.c.job_id,
        ji.c.job_submit_seq,
        ji.c.exitcode,
        ji.c.site,
        ji.c.user,
        ji.c.stdout_file,
        ji.c.stderr_file,
        ji.c.subwf_id,
        h.c.hostname,
    ).select_from(ji.outerjoin(h, h.c.host_id == ji.c.host_id))
    tries = _frame(con, iq, [c.name for c in iq.selected_columns])
    pivot = sa.select(
        js.c.job_instance_id,
        _first(t.PRE_START).label("pre_script_start"),
        _first(t.PRE_END_STATES, "max").label("pre_script_end"),
        _first(t.SUBMIT).label("submit"),
        _first(t.EXECUTE).label("execute_start"),
        _first(t.JOB_END_STATES, "max").label("execute_end"),
        _first(t.POST_START).label("post_script_start"),
        _first(t.POST_END_STATES, "max").label("post_script_end"),
        _first(t.HELD, "max").label("held_at"),
        sa.func.max(js.c.timestamp).label("last_ts"),
        _last_state_code().label("last_state"),
    ).group_by(js.c.job_instance_id)
    times = _frame(con, pivot, [c.name for c in pivot.selected_columns])
    times["state"] = times.pop("last_state").map(_decode_state)
    tries = tries.merge(times, on="job_instance_id", how="left").sort_values(["job_id", "job_submit_seq"])
    count = tries.groupby("job_id").size().rename("tries")
    # A retry is ready when the try before it ended (that try's last recorded state).
    earlier = tries.groupby("job_id")["last_ts"].shift(1)
    tries["previous_end"] = earlier.groupby(tries["job_id"]).cummax()
    last = tries.drop_duplicates("job_id", keep="last").drop(columns=["last_ts"])
    return jobs.merge(last, on="job_id", how="left").merge(
        count, left_on="job_id", right_index=True, how="left"
    )


def _edges(con: Connection) -> pd.DataFrame:
    e = t.job_edge
    return _frame(
        con, sa.select(e.c.wf_id, e.c.parent_exec_job_id, e.c.child_exec_job_id), ["wf_id", "parent", "child"]
    )


def _invocations(con: Connection) -> pd.DataFrame:
    """Task invocations (``task_submit_seq >= 0``) and failing pre/post scripts, every try."""
    i = t.invocation
    q = sa.select(
        i.c.job_instance_id,
        i.c.task_submit_seq,
        i.c.remote_cpu_time,
        i.c.exitcode,
        i.c.transformation,
        i.c.executable,
        i.c.argv,
    ).where(sa.or_(i.c.task_submit_seq >= 0, i.c.exitcode != 0))
    inv = _frame(con, q, [c.name for c in q.selected_columns])
    return inv.sort_values(["job_instance_id", "task_submit_seq"], kind="stable")


def read_stampede(engine: Engine, name: str) -> StampedeData:
    def read() -> StampedeData:
        with engine.connect() as con:
            jobs = _jobs(con)
            inv = _invocations(con)
            inv = inv[inv["job_instance_id"].isin(jobs["job_instance_id"].dropna())]
            return StampedeData(
                workflows=_workflows(con),
                jobs=jobs,
                edges=_edges(con),
                tasks=inv[inv["task_submit_seq"] >= 0],
                scripts=inv[inv["task_submit_seq"] < 0],
            )

    return with_retry(name, read)


def read_texts(engine: Engine, name: str, instance_ids: Sequence[int]) -> pd.DataFrame:
    """stdout/stderr texts and held reasons of a few job instances (the problem jobs only)."""
    ji, js = t.job_instance, t.jobstate
    ids = [int(i) for i in instance_ids]

    def read() -> pd.DataFrame:
        parts, reasons = [], []
        with engine.connect() as con:
            for k in range(0, len(ids), _CHUNK):
                chunk = ids[k : k + _CHUNK]
                parts.append(
                    _frame(
                        con,
                        sa.select(ji.c.job_instance_id, ji.c.stdout_text, ji.c.stderr_text).where(
                            ji.c.job_instance_id.in_(chunk)
                        ),
                        ["job_instance_id", "stdout_text", "stderr_text"],
                    )
                )
                reasons.append(
                    _frame(
                        con,
                        sa.select(js.c.job_instance_id, js.c.reason)
                        .where(js.c.job_instance_id.in_(chunk), js.c.state == t.HELD)
                        .order_by(js.c.timestamp),
                        ["job_instance_id", "held_reason"],
                    )
                )
        texts = (
            pd.concat(parts)
            if parts
            else pd.DataFrame(columns=["job_instance_id", "stdout_text", "stderr_text"])
        )
        held = pd.concat(reasons) if reasons else pd.DataFrame(columns=["job_instance_id", "held_reason"])
        held = held.groupby("job_instance_id").tail(1)
        return texts.merge(held, on="job_instance_id", how="left")

    return (
        with_retry(name, read)
        if ids
        else pd.DataFrame(columns=["job_instance_id", "stdout_text", "stderr_text", "held_reason"])
    )
