"""Read a real Pegasus run: a submit directory, a ``*.stampede.db`` file, or a database URL.

Each workflow in the DB (``wf_id``) becomes one :class:`Run`: the workflow is its ``dax_label``,
the run id its ``wf_uuid``, and a sub-workflow's ``parent_run`` is its parent's ``wf_uuid``.
The columns follow Flow-Bench's meaning (see :mod:`.derive`); job states, exit codes, retries
and output tails go to ``Run.status`` (see :mod:`.status`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.names import canonical_workflow
from flowsleuth.workflows.pegasus.connect import check_schema, open_engine
from flowsleuth.workflows.pegasus.derive import flowbench_frame, links_by_id, task_columns
from flowsleuth.workflows.pegasus.kickstart import KickstartRecord, read_record, record_files
from flowsleuth.workflows.pegasus.stampede import StampedeData, read_stampede, read_texts
from flowsleuth.workflows.pegasus.status import regular_exits, status_frame, tail
from flowsleuth.workflows.pegasus.submitdir import is_db_url, open_submit_dir
from flowsleuth.workflows.schema import KICKSTART_USAGE


def _local_dirs(wfs: pd.DataFrame, root_dir: Path | None) -> dict[int, Path | None]:
    """Each workflow's submit directory on this machine: the DB records where it was planned."""
    out: dict[int, Path | None] = {}
    roots = wfs[wfs["parent_wf_id"].isna()]
    db_root = str(roots["submit_dir"].iloc[0]) if len(roots) and roots["submit_dir"].iloc[0] else None
    if root_dir is None and db_root and Path(db_root).is_dir():
        root_dir = Path(db_root)
    for wf in wfs.to_dict("records"):
        where: Path | None = None
        if root_dir is not None and db_root and isinstance(wf["submit_dir"], str):
            rel = os.path.relpath(wf["submit_dir"], db_root)
            where = root_dir if rel == "." else (None if rel.startswith("..") else root_dir / rel)
        out[int(wf["wf_id"])] = where if where is not None and where.is_dir() else None
    return out


def _records(jobs: pd.DataFrame, where: Path | None) -> dict[str, KickstartRecord]:
    if where is None:
        return {}
    files = record_files(where)
    out: dict[str, KickstartRecord] = {}
    for name, out_file in zip(jobs["exec_job_id"], jobs["stdout_file"], strict=True):
        f = where / PurePosixPath(out_file) if isinstance(out_file, str) and out_file else None
        f = f if f is not None and f.is_file() and ".out." in f.name else files.get(name)
        rec = read_record(f) if f is not None else None
        if rec is not None:
            out[name] = rec
    return out


RECORD_COLUMNS = [*KICKSTART_USAGE, "ks_hostname", "ks_status", "ks_stdout", "ks_stderr"]


def _record_frame(recs: dict[str, KickstartRecord]) -> pd.DataFrame:
    """One row per job with a kickstart record: usage columns, hostname, status, output texts."""
    cols = RECORD_COLUMNS
    rows = {
        n: [*(r.usage.get(c, np.nan) for c in KICKSTART_USAGE), r.hostname, r.status, r.stdout, r.stderr]
        for n, r in recs.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols) if rows else pd.DataFrame(columns=cols)


def _exit_raw(jobs: pd.DataFrame, per_task: pd.DataFrame, scripts: pd.Series) -> pd.Series:
    """The raw exit status that explains the job: a failing task, else a failing script, else the try's."""
    inst = jobs["job_instance_id"]
    raw = inst.map(per_task["task_exit_raw"]).astype(float)
    raw = raw.where(raw.notna(), inst.map(scripts).astype(float))
    failed = jobs["exitcode"].fillna(0) != 0
    return raw.where(failed, jobs["exitcode"].astype(float))


def _ks_status(jobs: pd.DataFrame, per_task: pd.DataFrame) -> pd.Series:
    inst = jobs["job_instance_id"]
    has_tasks = inst.isin(per_task.index)
    raw = inst.map(per_task["task_exit_raw"]).astype(float).where(has_tasks, np.nan)
    raw = raw.where(raw.notna() | ~has_tasks, 0.0)
    return raw.where(raw.notna(), pd.to_numeric(jobs["ks_status"], errors="coerce").astype(float))


def _texts(jobs: pd.DataFrame, problem: pd.Series, engine: object, name: str) -> pd.DataFrame:
    """Output tails and held reasons of the problem jobs (DB texts, else kickstart records)."""
    out = pd.DataFrame({"stdout_tail": "", "stderr_tail": "", "held_reason": None}, index=jobs.index)
    sel = jobs[problem]
    if sel.empty:
        return out
    ids = sel["job_instance_id"].dropna().astype(int).tolist()
    texts = read_texts(engine, name, ids).set_index("job_instance_id")  # type: ignore[arg-type]
    inst = sel["job_instance_id"]
    for col, db_col, ks_col in (
        ("stdout_tail", "stdout_text", "ks_stdout"),
        ("stderr_tail", "stderr_text", "ks_stderr"),
    ):
        db_tail = inst.map(texts[db_col]).map(lambda s: tail(s, quoted=True))
        ks_tail = sel[ks_col].map(tail)
        out.loc[sel.index, col] = db_tail.where(db_tail != "", ks_tail)
    out.loc[sel.index, "held_reason"] = inst.map(texts["held_reason"])
    return out


def _workflow_run(
    wf: dict[str, Any],
    data: StampedeData,
    per_task: pd.DataFrame,
    scripts: pd.Series,
    where: Path | None,
    engine: object,
    name: str,
    parents: dict[int, str],
) -> Run:
    wf_id = int(wf["wf_id"])
    jobs = data.jobs[data.jobs["wf_id"] == wf_id].copy()
    jobs["exec_job_id"] = jobs["exec_job_id"].astype(str)
    recs = _records(jobs, where)
    if recs:
        ks = _record_frame(recs).reindex(jobs["exec_job_id"])
        ks = pd.DataFrame({c: ks[c].to_numpy() for c in ks.columns}, index=jobs.index)
    else:  # no records (a DB alone): one NaN block, not 12 object columns pandas must inspect
        ks = pd.DataFrame(np.nan, index=jobs.index, columns=RECORD_COLUMNS)
    jobs = pd.concat([jobs, ks], axis=1)  # one concat, not one column insert each (~0.1 s per 100k jobs)
    jobs["hostname"] = jobs["hostname"].where(jobs["hostname"].notna(), jobs["ks_hostname"])
    links = links_by_id(jobs["job_id"], data.edges[data.edges["wf_id"] == wf_id])
    start = float(wf["start"]) if pd.notna(wf["start"]) else float(wf["planned"] or np.nan)
    frame = flowbench_frame(jobs, links, per_task, start)
    jobs = jobs.set_index(frame.index)
    exit_raw = _exit_raw(jobs, per_task, scripts)
    problem = (jobs["exitcode"].fillna(0) != 0) | jobs["held_at"].notna() | (jobs["tries"].fillna(0) > 1)
    jobs = jobs.join(_texts(jobs, problem, engine, name))
    status = status_frame(jobs, regular_exits(exit_raw), _ks_status(jobs, per_task))
    parent = wf["parent_wf_id"]
    return Run(
        workflow=canonical_workflow(str(wf["dax_label"] or "unknown")),
        run_id=str(wf["wf_uuid"]),
        source=name if where is None else str(where),
        frame=frame,
        status=status,
        parent_run=parents.get(int(parent)) if pd.notna(parent) else None,
    )


_FOREIGN_VALUES = (ValueError, TypeError, OverflowError, IndexError, KeyError)


def iter_db_runs(source: str | Path, submit_dir: Path | None = None) -> Iterator[Run]:
    """Runs from a stampede DB (file path or URL), root workflow first."""
    engine, name = open_engine(source)
    try:
        check_schema(engine, name)
        data = read_stampede(engine, name)
        wfs = data.workflows.sort_values("wf_id")
        records: list[dict[str, Any]] = wfs.to_dict("records")  # type: ignore[assignment]
        parents = {int(r["wf_id"]): str(r["wf_uuid"]) for r in records}
        dirs = _local_dirs(wfs, submit_dir)
        per_task = task_columns(data.tasks)
        failing = data.scripts[data.scripts["exitcode"].fillna(0) != 0]
        scripts = failing.groupby("job_instance_id")["exitcode"].first()
        for wf in records:
            yield _workflow_run(wf, data, per_task, scripts, dirs[int(wf["wf_id"])], engine, name, parents)
    except _FOREIGN_VALUES as err:  # SQLite keeps any value in any column: a tampered or foreign DB
        first = (str(err).strip().splitlines() or [""])[0][:160]
        raise DataError(
            name,
            f"a value of the wrong type or shape ({type(err).__name__}: {first}); monitord never writes one",
        ) from None
    finally:
        engine.dispose()


def iter_pegasus_runs(source: str | Path) -> Iterator[Run]:
    """Runs from a submit directory, a stampede DB file, or a DB URL."""
    text = str(source)
    if is_db_url(text):
        yield from iter_db_runs(text)
        return
    p = Path(text)
    if not p.exists():
        raise DataError(p, "no such file or directory")
    if p.is_file():
        sd = p.parent if (p.parent / "braindump.yml").is_file() else None
        yield from iter_db_runs(p, sd)
        return
    sub = open_submit_dir(p)
    if sub.db is not None:
        yield from iter_db_runs(sub.db, p)
        return
    from flowsleuth.workflows.pegasus.jobstate import jobstate_run

    yield jobstate_run(sub)
