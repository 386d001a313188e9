"""A submit directory without a stampede DB: ``jobstate.log`` + the DAG file + kickstart records.

``jobstate.log`` lines are ``TIMESTAMP JOB STATE CONDOR_ID SITE - SUBMIT_SEQ``; the job's exit code
sits in the CONDOR_ID field of ``JOB_SUCCESS``/``JOB_FAILURE``/``POST_SCRIPT_*`` lines. Tries are
told apart by SUBMIT_SEQ; the last one counts, as in the DB. Host, transformation, CPU time and
usage come from the kickstart records. Columns then follow :mod:`.derive` exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.names import canonical_workflow
from flowsleuth.workflows.pegasus.derive import flowbench_frame, links_by_name, task_columns
from flowsleuth.workflows.pegasus.kickstart import read_record, record_files
from flowsleuth.workflows.pegasus.status import regular_exit, status_frame, tail
from flowsleuth.workflows.pegasus.submitdir import SubmitDir
from flowsleuth.workflows.pegasus.tables import HELD, JOB_END_STATES, POST_END_STATES, PRE_END_STATES
from flowsleuth.workflows.schema import KICKSTART_USAGE

_PREFIX_TYPES = (
    ("create_dir_", "create-dir"),
    ("stage_in_", "stage-in-tx"),
    ("stage_worker_", "stage-in-tx"),
    ("stage_out_", "stage-out-tx"),
    ("stage_inter_", "inter-site-tx"),
    ("register_", "registration"),
    ("cleanup_", "cleanup"),
    ("clean_up_", "cleanup"),
    ("chmod_", "chmod"),
    ("pegasus-plan_", "dax"),
    ("subdax_", "dax"),
)
_TIME_STATES = {
    "PRE_SCRIPT_STARTED": ("pre_script_start", min),
    "SUBMIT": ("submit", min),
    "EXECUTE": ("execute_start", min),
    "POST_SCRIPT_STARTED": ("post_script_start", min),
    **{s: ("pre_script_end", max) for s in PRE_END_STATES},
    **{s: ("execute_end", max) for s in JOB_END_STATES},
    **{s: ("post_script_end", max) for s in POST_END_STATES},
    HELD: ("held_at", max),
}
_SUCCESS = ("JOB_SUCCESS", "POST_SCRIPT_SUCCESS", "PRE_SCRIPT_SUCCESS")
_FAILURE = ("JOB_FAILURE", "JOB_ABORTED", *(s for s in (*POST_END_STATES, *PRE_END_STATES) if "FAIL" in s))


def type_from_name(name: str) -> str:
    for prefix, kind in _PREFIX_TYPES:
        if name.startswith(prefix):
            return kind
    return "compute"


def parse_dag(dag: Path | None) -> tuple[list[str], pd.DataFrame]:
    """(job names, edges parent -> child) from a DAGMan file."""
    names: list[str] = []
    edges: list[tuple[str, str]] = []
    if dag is None:
        return names, pd.DataFrame(columns=["parent", "child"])
    for line in dag.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if (len(parts) >= 2 and parts[0] == "JOB") or parts[:2] == ["SUBDAG", "EXTERNAL"]:
            names.append(parts[1] if parts[0] == "JOB" else parts[2])
        elif parts and parts[0] == "PARENT" and "CHILD" in parts:
            k = parts.index("CHILD")
            edges += [(p, c) for p in parts[1:k] for c in parts[k + 1 :]]
    return names, pd.DataFrame(edges, columns=["parent", "child"])


def parse_jobstate(log: Path) -> tuple[pd.DataFrame, float]:
    """Per-line frame (ts, job, state, code, seq) of job lines, and DAGMan's start."""
    rows, start = [], np.nan
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) < 3 or not re.fullmatch(r"\d+(\.\d+)?", parts[0]):
            continue
        if parts[1] == "INTERNAL":
            if "DAGMAN_STARTED" in line and np.isnan(start):
                start = float(parts[0])
            continue
        seq = int(parts[-1]) if parts[-1].isdigit() else 0
        state = parts[2].replace("SCRIPT_FAILURE", "SCRIPT_FAILED")  # monitord's name for it in the DB
        rows.append((float(parts[0]), parts[1], state, parts[3] if len(parts) > 3 else "", seq))
    return pd.DataFrame(rows, columns=["ts", "job", "state", "code", "seq"]), start


def _job_rows(lines: pd.DataFrame) -> pd.DataFrame:
    out = []
    for name, g in lines.groupby("job", sort=False):
        last_seq = g["seq"].max()
        cur = g[g["seq"] == last_seq]
        row: dict[str, object] = {
            "exec_job_id": name,
            "tries": g["seq"].nunique(),
            "job_instance_id": last_seq,
        }
        for state, (col, agg) in _TIME_STATES.items():
            ts = cur.loc[cur["state"] == state, "ts"]
            if len(ts):
                row[col] = agg(ts) if col not in row else agg(row[col], agg(ts))
        row["state"] = cur["state"].iloc[-1]
        codes = cur[cur["state"].isin(_FAILURE)]["code"]
        if cur["state"].isin(_FAILURE).any():
            regular = next((int(c) for c in codes if c.lstrip("-").isdigit() and int(c) != 0), 1)
            row["exitcode"] = regular << 8 if regular >= 0 else -1
        elif cur["state"].isin(_SUCCESS).any():
            row["exitcode"] = 0
        earlier = g.loc[g["seq"] < last_seq, "ts"]
        row["previous_end"] = earlier.max() if len(earlier) else np.nan
        out.append(row)
    return pd.DataFrame(out)


def jobstate_run(sub: SubmitDir) -> Run:
    if sub.jobstate_log is None:
        raise DataError(sub.path, "no stampede DB and no jobstate.log: the workflow has not started")
    lines, start = parse_jobstate(sub.jobstate_log)
    names, edges = parse_dag(sub.dag)
    seen = _job_rows(lines) if len(lines) else pd.DataFrame(columns=["exec_job_id"], dtype=object)
    ids = list(dict.fromkeys([*names, *seen["exec_job_id"]]))
    if not ids:
        raise DataError(sub.path, "the submit directory lists no jobs (empty DAG and jobstate.log)")
    jobs = pd.DataFrame({"exec_job_id": pd.Series(ids, dtype=object)})
    jobs = jobs.merge(seen, on="exec_job_id", how="left")
    for c in (
        "job_instance_id",
        "state",
        "previous_end",
        "held_at",
        "exitcode",
        "tries",
        *(c for c, _ in _TIME_STATES.values()),
    ):
        if c not in jobs.columns:
            jobs[c] = np.nan
    files = record_files(sub.path)
    recs = {n: r for n in jobs["exec_job_id"] if n in files and (r := read_record(files[n])) is not None}
    get = lambda attr, default: jobs["exec_job_id"].map(  # noqa: E731
        lambda n: getattr(recs[n], attr) if n in recs else default
    )
    jobs["type_desc"] = jobs["exec_job_id"].map(type_from_name)
    jobs["hostname"] = get("hostname", None)
    for col in KICKSTART_USAGE:
        jobs[col] = jobs["exec_job_id"].map(
            lambda n, c=col: recs[n].usage.get(c, np.nan) if n in recs else np.nan
        )
    tasks = pd.DataFrame(
        {
            "job_instance_id": jobs["job_instance_id"],
            "task_submit_seq": 1,
            "remote_cpu_time": get("cpu_time", np.nan),
            "exitcode": get("status", np.nan),
            "transformation": get("transformation", None),
            "executable": get("executable", None),
            "argv": get("argv", None),
        }
    )[jobs["exec_job_id"].isin(list(recs)).to_numpy()]
    links = links_by_name(jobs["exec_job_id"], edges)
    frame = flowbench_frame(jobs, links, task_columns(tasks), start)
    jobs = jobs.set_index(frame.index)
    problem = (jobs["exitcode"].fillna(0) != 0) | jobs["held_at"].notna() | (jobs["tries"].fillna(0) > 1)
    errs = {
        n: p
        for n, p in (
            (f.name.split(".err.")[0], f) for f in sorted(sub.path.glob("*/*/*.err.[0-9][0-9][0-9]"))
        )
    }
    jobs["stdout_tail"] = [
        tail(recs[n].stdout + recs[n].stderr) if p and n in recs else ""
        for n, p in zip(jobs.index, problem, strict=True)
    ]
    jobs["stderr_tail"] = [
        tail(errs[n].read_text(errors="replace")) if p and n in errs else ""
        for n, p in zip(jobs.index, problem, strict=True)
    ]
    exit_codes = jobs["exitcode"].map(regular_exit)
    ks = jobs.index.to_series().map(lambda n: recs[n].status if n in recs else None).astype(float)
    status = status_frame(jobs, exit_codes, ks)
    return Run(
        workflow=canonical_workflow(sub.label or "unknown"),
        run_id=sub.wf_uuid or sub.path.name,
        source=str(sub.path),
        frame=frame,
        status=status,
    )
