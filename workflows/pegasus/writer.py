"""Write runs into a stampede-schema SQLite file as monitord would: for round-trip tests,
benchmarks (a synthetic 100,000-job DB) and demos, and copies of a submit directory as runs of
their own (archives in tests and benchmarks). The reader never calls this.

Per job: one ``job`` row, one ``job_instance`` (the only try, exit code 0), its ``jobstate`` rows
(``PRE_SCRIPT_*``, ``SUBMIT``, ``EXECUTE``, ``JOB_TERMINATED``, ``JOB_SUCCESS``, ``POST_SCRIPT_*``,
each only where the run has that timestamp, numbered by ``jobstate_submit_seq``), one task
``invocation`` (``task_submit_seq`` 1, the CPU time) and a post-script invocation (-2).
"""

from __future__ import annotations

import contextlib
import math
import shutil
import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from flowsleuth.workflows.models import Run
from flowsleuth.workflows.pegasus import tables as t

FLOWBENCH_TO_PEGASUS = {
    "compute": "compute",
    "transfer": "stage-in-tx",
    "auxiliary": "cleanup",
    "subwf": "dax",
}
_STATES = (
    ("PRE_SCRIPT_STARTED", "pre_script_start"),
    ("PRE_SCRIPT_TERMINATED", "pre_script_end"),
    ("PRE_SCRIPT_SUCCESS", "pre_script_end"),
    ("SUBMIT", "submit"),
    ("EXECUTE", "execute_start"),
    ("JOB_TERMINATED", "execute_end"),
    ("JOB_SUCCESS", "execute_end"),
    ("POST_SCRIPT_STARTED", "post_script_start"),
    ("POST_SCRIPT_TERMINATED", "post_script_end"),
    ("POST_SCRIPT_SUCCESS", "post_script_end"),
)


# The unique keys and indexes of Pegasus's schema.py that a stampede DB carries.
MONITORD_INDEXES = (
    'CREATE UNIQUE INDEX "UNIQUE_WF_UUID" ON workflow (wf_uuid)',
    'CREATE UNIQUE INDEX "UNIQUE_JOB" ON job (wf_id, exec_job_id)',
    'CREATE UNIQUE INDEX "UNIQUE_JOB_INSTANCE" ON job_instance (job_id, job_submit_seq)',
    "CREATE UNIQUE INDEX jobstate_pk ON jobstate (job_instance_id, state, timestamp, jobstate_submit_seq)",
    'CREATE UNIQUE INDEX "UNIQUE_INVOCATION" ON invocation (job_instance_id, task_submit_seq)',
    "CREATE UNIQUE INDEX job_edge_pk ON job_edge (wf_id, parent_exec_job_id, child_exec_job_id)",
    'CREATE INDEX "job_exec_job_id_COL" ON job (exec_job_id)',
    'CREATE INDEX "job_type_desc_COL" ON job (type_desc)',
    'CREATE INDEX "jobstate_jobstate_submit_seq_COL" ON jobstate (jobstate_submit_seq)',
    'CREATE INDEX "invoc_wf_id_COL" ON invocation (wf_id)',
)


def _num(v: object) -> float | None:
    f = float(v)  # type: ignore[arg-type]
    return None if math.isnan(f) else f


def _text(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else str(v)


def write_stampede(
    path: Path,
    runs: Sequence[Run],
    edges: Mapping[str, Iterable[tuple[str, str]]] | None = None,
    starts: Mapping[str, float] | None = None,
) -> None:
    """One workflow per run (``dax_label`` = workflow, ``wf_uuid`` = run id), schema version 14.

    ``edges[run_id]`` are (parent, child) node ids; ``starts[run_id]`` is the workflow start."""
    engine_url = f"sqlite:///{path}"
    import sqlalchemy as sa

    sa_engine = sa.create_engine(engine_url)
    t.metadata.create_all(sa_engine)
    sa_engine.dispose()
    con = sqlite3.connect(path)
    try:
        for ddl in MONITORD_INDEXES:
            con.execute(ddl)
        con.execute("INSERT INTO dbversion (version_number, version, version_timestamp) VALUES (14, '14', 0)")
        ids = {"job": 0, "ji": 0, "host": 0, "inv": 0}
        for wf_id, run in enumerate(runs, start=1):
            _write_run(
                con, wf_id, run, (edges or {}).get(run.run_id, ()), (starts or {}).get(run.run_id), ids
            )
        con.commit()
    finally:
        con.close()


def _write_run(
    con: sqlite3.Connection,
    wf_id: int,
    run: Run,
    edges: Iterable[tuple[str, str]],
    start: float | None,
    ids: dict[str, int],
) -> None:
    f = run.frame
    if start is None:
        start = float(f["ready"].min()) if f["ready"].notna().any() else 0.0
    con.execute(
        "INSERT INTO workflow (wf_id, wf_uuid, dag_file_name, timestamp, submit_dir, dax_label, "
        "parent_wf_id, root_wf_id) VALUES (?,?,?,?,?,?,NULL,?)",
        (wf_id, run.run_id, f"{run.workflow}-0.dag", start, None, run.workflow, wf_id),
    )
    end = float(f[["execute_end", "post_script_end"]].max().max())
    con.executemany(
        "INSERT INTO workflowstate (wf_id, state, timestamp, restart_count, status) VALUES (?,?,?,0,?)",
        [(wf_id, "WORKFLOW_STARTED", start, None), (wf_id, "WORKFLOW_TERMINATED", end, 0)],
    )
    hosts: dict[str, int] = {}
    for h in f["kickstart_hostname"].unique():
        ids["host"] += 1
        hosts[str(h)] = ids["host"]
        con.execute(
            "INSERT INTO host (host_id, wf_id, site, hostname, ip) VALUES (?,?,?,?,?)",
            (ids["host"], wf_id, "condorpool", str(h), "10.0.0.1"),
        )
    jobs, insts, states, invs = [], [], [], []
    cols = list(f.columns)
    for seq, (node, row) in enumerate(zip(f.index, f.itertuples(index=False, name=None), strict=True), 1):
        r = dict(zip(cols, row, strict=True))
        ids["job"] += 1
        ids["ji"] += 1
        jobs.append(
            (
                ids["job"],
                wf_id,
                str(node),
                f"00/00/{node}.sub",
                FLOWBENCH_TO_PEGASUS.get(str(r["type"]), "unknown"),
                0,
                1,
                _text(r["kickstart_executables"]) or "",
                _text(r["kickstart_executables_argv"]),
                1,
            )
        )
        insts.append(
            (
                ids["ji"],
                ids["job"],
                hosts[str(r["kickstart_hostname"])],
                seq,
                _text(r["kickstart_site"]),
                _text(r["kickstart_user"]),
                1,
                0,
            )
        )
        k = 0
        for state, col in _STATES:
            ts = _num(r[col])
            if ts is not None:
                k += 1
                states.append((ids["ji"], state, ts, k))
        ids["inv"] += 1
        invs.append(
            (
                ids["inv"],
                wf_id,
                ids["ji"],
                1,
                _num(r["execute_start"]) or 0.0,
                _num(r["runtime"]) or 0.0,
                _num(r["kickstart_executables_cpu_time"]),
                0,
                _text(r["kickstart_transformations"]) or "",
                _text(r["kickstart_executables"]) or "",
                _text(r["kickstart_executables_argv"]),
            )
        )
        ids["inv"] += 1
        invs.append(
            (
                ids["inv"],
                wf_id,
                ids["ji"],
                -2,
                _num(r["post_script_start"]) or 0.0,
                1.0,
                1.0,
                0,
                "dagman::post",
                "pegasus-exitcode",
                None,
            )
        )
    con.executemany(
        "INSERT INTO job (job_id, wf_id, exec_job_id, submit_file, type_desc, clustered, "
        "max_retries, executable, argv, task_count) VALUES (?,?,?,?,?,?,?,?,?,?)",
        jobs,
    )
    con.executemany(
        "INSERT INTO job_instance (job_instance_id, job_id, host_id, job_submit_seq, site, "
        "user, multiplier_factor, exitcode) VALUES (?,?,?,?,?,?,?,?)",
        insts,
    )
    con.executemany(
        "INSERT INTO jobstate (job_instance_id, state, timestamp, jobstate_submit_seq) VALUES (?,?,?,?)",
        states,
    )
    con.executemany(
        "INSERT INTO invocation (invocation_id, wf_id, job_instance_id, task_submit_seq, "
        "start_time, remote_duration, remote_cpu_time, exitcode, transformation, executable, "
        "argv) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        invs,
    )
    con.executemany(
        "INSERT INTO job_edge (wf_id, parent_exec_job_id, child_exec_job_id) VALUES (?,?,?)",
        [(wf_id, p, c) for p, c in edges],
    )


def renamed_copy(src: Path, dst: Path, tag: str) -> Path:
    """A writable copy of the submit directory ``src`` at ``dst`` whose workflows have their own
    ``wf_uuid`` (a stable one per ``tag``), in its stampede DB and braindump files: another run."""
    shutil.copytree(src, dst)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    new: dict[str, str] = {}
    for db in dst.rglob("*.stampede.db"):
        with contextlib.closing(sqlite3.connect(db)) as con:
            for (old,) in con.execute("SELECT wf_uuid FROM workflow").fetchall():
                new[old] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{old}/{tag}"))
                con.execute("UPDATE workflow SET wf_uuid = ? WHERE wf_uuid = ?", (new[old], old))
            con.commit()
    for bd in dst.rglob("braindump.yml"):
        text = bd.read_text()
        for old, fresh in new.items():
            text = text.replace(old, fresh)
        bd.write_text(text)
    return dst
