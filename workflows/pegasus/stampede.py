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

_CHUNK = 900  # below SQLite's bound-parameter limit on old builds


@dataclass(frozen=True)
class StampedeData:
    workflows: pd.DataFrame  # wf_id, wf_uuid, dax_label, parent_wf_id, submit_dir, start, state, status
    jobs: pd.DataFrame  # one row per job: its last try's times, host, exit code, retries, last state
    edges: pd.DataFrame  # wf_id, parent, child (exec_job_id)
    tasks: pd.DataFrame  # invocations of the last tries, task_submit_seq >= 0
    scripts: pd.DataFrame  # pre/post-script invocations of the last tries (task_submit_seq < 0)


def _frame(con: Connection, query: sa.Select | sa.TextClause, columns: Sequence[str]) -> pd.DataFrame:
    rows = [tuple(r) for r in con.execute(query).all()]  # plain tuples: pandas probes Row objects slowly
    return pd.DataFrame.from_records(rows, columns=list(columns))


def _first(state: str | Sequence[str], agg: str = "min") -> sa.ColumnElement[Any]:
    """min (or max) timestamp of the state(s) within a try: the state pivot runs in SQL."""
    cond = t.jobstate.c.state == state if isinstance(state, str) else t.jobstate.c.state.in_(state)
    fn = sa.func.max if agg == "max" else sa.func.min
    return fn(sa.case((cond, t.jobstate.c.timestamp)))


def _last_tries() -> sa.Subquery:
    ji = t.job_instance
    return (
        sa.select(
            ji.c.job_id,
            sa.func.max(ji.c.job_submit_seq).label("seq"),
            sa.func.count().label("tries"),
        )
        .group_by(ji.c.job_id)
        .subquery("last")
    )


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
    j, ji, js, h = t.job, t.job_instance, t.jobstate, t.host
    last = _last_tries()
    inst = (
        sa.select(
            j.c.job_id,
            j.c.wf_id,
            j.c.exec_job_id,
            j.c.type_desc,
            j.c.clustered,
            j.c.executable,
            j.c.argv,
            ji.c.job_instance_id,
            ji.c.exitcode,
            ji.c.site,
            ji.c.user,
            ji.c.stdout_file,
            ji.c.stderr_file,
            ji.c.subwf_id,
            h.c.hostname,
            last.c.tries,
        )
        .select_from(j)
        .outerjoin(last, last.c.job_id == j.c.job_id)
        .outerjoin(ji, sa.and_(ji.c.job_id == j.c.job_id, ji.c.job_submit_seq == last.c.seq))
        .outerjoin(h, h.c.host_id == ji.c.host_id)
    )
    jobs = _frame(con, inst, [c.name for c in inst.selected_columns])
    pivot = (
        sa.select(
            js.c.job_instance_id,
            _first(t.PRE_START).label("pre_script_start"),
            _first(t.PRE_END_STATES, "max").label("pre_script_end"),
            _first(t.SUBMIT).label("submit"),
            _first(t.EXECUTE).label("execute_start"),
            _first(t.JOB_END_STATES, "max").label("execute_end"),
            _first(t.POST_START).label("post_script_start"),
            _first(t.POST_END_STATES, "max").label("post_script_end"),
            _first(t.HELD, "max").label("held_at"),
        )
        .where(
            js.c.job_instance_id.in_(
                sa.select(ji.c.job_instance_id).join(
                    last, sa.and_(last.c.job_id == ji.c.job_id, last.c.seq == ji.c.job_submit_seq)
                )
            )
        )
        .group_by(js.c.job_instance_id)
    )
    times = _frame(con, pivot, [c.name for c in pivot.selected_columns])
    ranked = sa.select(
        js.c.job_instance_id,
        js.c.state,
        sa.func.row_number()
        .over(
            partition_by=js.c.job_instance_id,
            order_by=(js.c.jobstate_submit_seq.desc(), js.c.timestamp.desc(), js.c.state.desc()),
        )
        .label("rn"),
    ).subquery()
    last_state = _frame(
        con,
        sa.select(ranked.c.job_instance_id, ranked.c.state).where(ranked.c.rn == 1),
        ["job_instance_id", "state"],
    )
    # A retry is ready when the try before it ended (its last recorded state).
    earlier = (
        sa.select(ji.c.job_id, sa.func.max(js.c.timestamp).label("previous_end"))
        .select_from(js)
        .join(ji, ji.c.job_instance_id == js.c.job_instance_id)
        .join(last, sa.and_(last.c.job_id == ji.c.job_id, ji.c.job_submit_seq < last.c.seq))
        .group_by(ji.c.job_id)
    )
    previous = _frame(con, earlier, ["job_id", "previous_end"])
    jobs = jobs.merge(times, on="job_instance_id", how="left").merge(
        last_state, on="job_instance_id", how="left"
    )
    return jobs.merge(previous, on="job_id", how="left")


def _edges(con: Connection) -> pd.DataFrame:
    e = t.job_edge
    return _frame(
        con, sa.select(e.c.wf_id, e.c.parent_exec_job_id, e.c.child_exec_job_id), ["wf_id", "parent", "child"]
    )


def _invocations(con: Connection) -> pd.DataFrame:
    i, ji = t.invocation, t.job_instance
    last = _last_tries()
    q = (
        sa.select(
            i.c.job_instance_id,
            i.c.task_submit_seq,
            i.c.remote_cpu_time,
            i.c.exitcode,
            i.c.transformation,
            i.c.executable,
            i.c.argv,
        )
        .join(ji, ji.c.job_instance_id == i.c.job_instance_id)
        .join(last, sa.and_(last.c.job_id == ji.c.job_id, last.c.seq == ji.c.job_submit_seq))
        .order_by(i.c.job_instance_id, i.c.task_submit_seq)
    )
    return _frame(
        con,
        q,
        [
            "job_instance_id",
            "task_submit_seq",
            "remote_cpu_time",
            "exitcode",
            "transformation",
            "executable",
            "argv",
        ],
    )


def read_stampede(engine: Engine, name: str) -> StampedeData:
    def read() -> StampedeData:
        with engine.connect() as con:
            inv = _invocations(con)
            return StampedeData(
                workflows=_workflows(con),
                jobs=_jobs(con),
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
