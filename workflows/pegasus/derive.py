"""Flow-Bench's columns from a job's recorded states, as Flow-Bench's parser derived them.

Per job, on its last try (highest ``job_submit_seq``); timestamps are epoch seconds:

- ``ready``      = max over DAG parents of the parent's end, where a parent's end is its
                   ``post_script_end`` if it had a post-script, else its ``execute_end``;
                   a root job (no parents) is ready at the workflow's start (``WORKFLOW_STARTED``,
                   i.e. DAGMan's start); a retried job is ready no earlier than the end of its
                   previous try (that try's last recorded state).
- ``pre_script_start`` = ``PRE_SCRIPT_STARTED``; ``pre_script_end`` = ``PRE_SCRIPT_SUCCESS|FAILED``
- ``submit`` = ``SUBMIT``; ``execute_start`` = ``EXECUTE``
- ``execute_end`` = the terminal job state: ``JOB_SUCCESS``, else ``JOB_FAILURE`` / ``JOB_ABORTED``
- ``post_script_start`` = ``POST_SCRIPT_STARTED``; ``post_script_end`` = ``POST_SCRIPT_SUCCESS|FAILED``
- ``wms_delay``         = (``pre_script_start`` if any, else ``submit``) - ``ready``
- ``pre_script_delay``  = ``pre_script_end`` - ``pre_script_start``
- ``queue_delay``       = ``execute_start`` - ``submit``
- ``runtime``           = ``execute_end`` - ``execute_start``
- ``post_script_delay`` = ``post_script_end`` - ``post_script_start``
- ``kickstart_executables_cpu_time`` = sum of ``invocation.remote_cpu_time`` over the try's tasks
  with ``task_submit_seq >= 0`` (DAGMan pre/post scripts are -1/-2 and are left out)
- ``kickstart_hostname`` = ``host.hostname`` of the try (a NULL ``host_id`` falls back to the
  kickstart record's hostname, else ``unknown``)
- ``kickstart_transformations`` / ``kickstart_executables`` / ``kickstart_executables_argv`` =
  the tasks' ``invocation.transformation`` / ``executable`` / ``argv`` (comma-joined when clustered)
- ``type`` = Flow-Bench's job type from ``job.type_desc``: compute and staged-compute -> compute;
  stage-in-tx, stage-out-tx, inter-site-tx -> transfer; dax, dag -> subwf; everything else -> auxiliary
- ``kickstart_user`` / ``kickstart_site`` = ``job_instance.user`` / ``site``

Not in a stampede DB, so NaN: stage-in/out times and bytes and the ``kickstart_online_*`` counters
(Panorama's streaming monitor wrote them). ``kickstart_usage_*`` come from kickstart records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from flowsleuth.workflows.schema import INDEX_COLUMN, NUMERIC_COLUMNS, TEXT_COLUMNS

UNKNOWN_HOST = "unknown"
_TYPES = {
    "compute": "compute",
    "staged-compute": "compute",
    "stage-in-tx": "transfer",
    "stage-out-tx": "transfer",
    "inter-site-tx": "transfer",
    "dax": "subwf",
    "dag": "subwf",
}
STATE_TIMES = (
    "pre_script_start",
    "pre_script_end",
    "submit",
    "execute_start",
    "execute_end",
    "post_script_start",
    "post_script_end",
)


def flowbench_type(type_desc: pd.Series) -> pd.Series:
    return type_desc.astype(str).map(_TYPES).fillna("auxiliary")


def _positions(names: pd.Index, *refs: pd.Series) -> tuple[np.ndarray, ...]:
    """Each reference's position in ``names`` (-1: not there). One factorize over names and
    references together: half the cost of a ``get_indexer`` per reference (one hash pass)."""
    n = len(names)
    codes, _ = pd.factorize(
        np.concatenate([names.to_numpy(dtype=object), *(r.to_numpy(dtype=object) for r in refs)])
    )
    if not np.array_equal(codes[:n], np.arange(n)):  # repeated names: let pandas say so
        return tuple(names.get_indexer(pd.Index(r)) for r in refs)
    out, start = [], n
    for r in refs:
        pos = codes[start : start + len(r)]
        out.append(np.where(pos < n, pos, -1))
        start += len(r)
    return tuple(out)


# Each edge's parent and child as row positions in the jobs frame (-1: not a job of the run)
Links = tuple[np.ndarray, np.ndarray]


def links_by_name(names: pd.Series, edges: pd.DataFrame) -> Links:
    """Edges by node name (``parent``, ``child``) -> positions of those names in ``names``."""
    parent, child = _positions(pd.Index(names.astype(str)), edges["parent"], edges["child"])
    return parent, child


def links_by_id(job_ids: pd.Series, edges: pd.DataFrame) -> Links:
    """Edges by job id (``parent``, ``child``; -1: no such job) -> positions of those ids."""
    index = pd.Index(job_ids.to_numpy())
    return index.get_indexer(edges["parent"].to_numpy()), index.get_indexer(edges["child"].to_numpy())


def ready_times(jobs: pd.DataFrame, links: Links, wf_start: float) -> pd.Series:
    """``ready`` per job (in the order of ``jobs``): latest parent end, or the workflow start."""
    end = jobs["post_script_end"].where(jobs["post_script_end"].notna(), jobs["execute_end"])
    parent, child = links
    ends = np.where(parent >= 0, end.to_numpy(dtype=float)[parent], np.nan)
    known = child >= 0
    latest = np.full(len(jobs), np.nan)
    np.fmax.at(latest, child[known], ends[known])  # fmax: a parent without an end is skipped
    has_parent = np.zeros(len(jobs), dtype=bool)
    has_parent[child[known]] = True
    ready = pd.Series(np.where(has_parent, latest, wf_start), index=jobs.index, dtype=float)
    if "previous_end" in jobs.columns:
        prev = jobs["previous_end"].astype(float)
        ready = ready.where(prev.isna() | (ready >= prev), prev)
    return ready


def task_columns(tasks: pd.DataFrame) -> pd.DataFrame:
    """Per job instance: CPU time, joined transformations/executables/argv, first failing raw exit."""
    if tasks.empty:
        return pd.DataFrame(
            columns=["cpu_time", "transformations", "executables", "argv", "task_exit_raw"],
            index=pd.Index([], name="job_instance_id"),
        )
    g = tasks.groupby("job_instance_id", sort=False)
    single = not tasks["job_instance_id"].duplicated().any()  # the common case: one task per job

    def joined(col: str) -> pd.Series:
        if single:
            values = tasks.set_index("job_instance_id")[col]
            return values.where(values.notna(), "").astype(str)
        return g[col].agg(lambda s: ",".join(dict.fromkeys(str(v) for v in s if v is not None and v == v)))

    failing = tasks[tasks["exitcode"].fillna(0) != 0].groupby("job_instance_id")["exitcode"].first()
    return pd.DataFrame(
        {
            "cpu_time": g["remote_cpu_time"].sum(min_count=1).astype(float),
            "transformations": joined("transformation"),
            "executables": joined("executable"),
            "argv": joined("argv"),
            "task_exit_raw": failing,
        }
    )


def flowbench_frame(
    jobs: pd.DataFrame, links: Links, per_task: pd.DataFrame, wf_start: float
) -> pd.DataFrame:
    """The run frame (Flow-Bench columns, NaN where the input has no value), indexed by node id.
    ``links``: the DAG's edges as positions in ``jobs``; ``per_task``: :func:`task_columns` of the
    tries' tasks."""
    jobs = jobs.set_index("exec_job_id", drop=False)
    inst = jobs["job_instance_id"]
    n = len(jobs)
    cols: dict[str, np.ndarray] = {
        c: jobs[c].to_numpy(dtype=float) if c in jobs.columns else np.full(n, np.nan) for c in NUMERIC_COLUMNS
    }
    cols["ready"] = ready_times(jobs, links, wf_start).to_numpy()
    start = np.where(np.isnan(cols["pre_script_start"]), cols["submit"], cols["pre_script_start"])
    cols["wms_delay"] = start - cols["ready"]
    cols["pre_script_delay"] = cols["pre_script_end"] - cols["pre_script_start"]
    cols["queue_delay"] = cols["execute_start"] - cols["submit"]
    cols["runtime"] = cols["execute_end"] - cols["execute_start"]
    cols["post_script_delay"] = cols["post_script_end"] - cols["post_script_start"]
    cols["kickstart_executables_cpu_time"] = inst.map(per_task["cpu_time"]).to_numpy(dtype=float)
    text = {
        "type": flowbench_type(jobs["type_desc"]),
        "kickstart_hostname": jobs["hostname"].fillna(UNKNOWN_HOST),
        "kickstart_transformations": inst.map(per_task["transformations"]),
        "kickstart_executables": inst.map(per_task["executables"]),
        "kickstart_executables_argv": inst.map(per_task["argv"]),
        "kickstart_user": jobs.get("user"),
        "kickstart_site": jobs.get("site"),
    }
    for c in TEXT_COLUMNS:
        col = text.get(c)
        # astype(object) first: a column with no value at all is float NaN, and "" is no float
        if col is None:
            cols[c] = np.full(n, "", dtype=object)
        else:
            cols[c] = col.astype(object).fillna("").astype(str).to_numpy()
    # one constructor call, not one column insert each: the columns in the schema's order
    order = [*NUMERIC_COLUMNS, *(c for c in cols if c not in NUMERIC_COLUMNS and c not in TEXT_COLUMNS)]
    order += list(TEXT_COLUMNS)
    return pd.DataFrame(
        {c: cols[c] for c in dict.fromkeys(order)},
        index=pd.Index(jobs.index.astype(str), name=INDEX_COLUMN),
    )
