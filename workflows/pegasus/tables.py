"""The stampede tables and columns this reader uses, named as in Pegasus's ``Pegasus/db/schema.py``.

Only the columns read are declared: the reader never creates, alters or writes a table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, Text

# Pegasus 4.9.x wrote version 11, 5.0.0 version 13, later 5.x version 14 (pegasus-db-admin's
# COMPATIBILITY). 12 changed keys and indexes, 13 added invocation.maxrss/avg_cpu, 14 the trigger
# table: none of it is read here (tests/pegasus/test_versions.py reads each as version 14).
SUPPORTED_VERSIONS = (11, 12, 13, 14)

# The columns read, per table, in schema.py's order: one spec, one builder (no table is created
# or altered here; the writer alone calls ``metadata.create_all`` on a file of its own).
_TIME = Numeric(16, 6, asdecimal=False)
_DURATION = Numeric(10, 3, asdecimal=False)
SCHEMA: dict[str, dict[str, Any]] = {
    "dbversion": {"id": Integer, "version_number": Integer, "version": String, "version_timestamp": Integer},
    "workflow": {
        "wf_id": Integer,
        "wf_uuid": String,
        "dag_file_name": String,
        "timestamp": _TIME,
        "submit_dir": Text,
        "dax_label": String,
        "parent_wf_id": Integer,
        "root_wf_id": Integer,
    },
    "workflowstate": {
        "wf_id": Integer,
        "state": String,
        "timestamp": _TIME,
        "restart_count": Integer,
        "status": Integer,
    },
    "host": {"host_id": Integer, "wf_id": Integer, "site": String, "hostname": String, "ip": String},
    "job": {
        "job_id": Integer,
        "wf_id": Integer,
        "exec_job_id": String,
        "submit_file": String,
        "type_desc": String,
        "clustered": Integer,
        "max_retries": Integer,
        "executable": Text,
        "argv": Text,
        "task_count": Integer,
    },
    "job_edge": {"wf_id": Integer, "parent_exec_job_id": String, "child_exec_job_id": String},
    "job_instance": {
        "job_instance_id": Integer,
        "job_id": Integer,
        "host_id": Integer,
        "job_submit_seq": Integer,
        "sched_id": String,
        "site": String,
        "user": String,
        "work_dir": Text,
        "local_duration": _DURATION,
        "subwf_id": Integer,
        "stdout_file": String,
        "stdout_text": Text,
        "stderr_file": String,
        "stderr_text": Text,
        "multiplier_factor": Integer,
        "exitcode": Integer,
    },
    "jobstate": {
        "job_instance_id": Integer,
        "state": String,
        "timestamp": _TIME,
        "jobstate_submit_seq": Integer,
        "reason": Text,
    },
    "invocation": {
        "invocation_id": Integer,
        "wf_id": Integer,
        "job_instance_id": Integer,
        "task_submit_seq": Integer,
        "start_time": _TIME,
        "remote_duration": _DURATION,
        "remote_cpu_time": _DURATION,
        "exitcode": Integer,
        "transformation": Text,
        "executable": Text,
        "argv": Text,
        "abs_task_id": String,
        "maxrss": Integer,
        "avg_cpu": _TIME,
    },
    "task": {
        "task_id": Integer,
        "wf_id": Integer,
        "job_id": Integer,
        "abs_task_id": String,
        "transformation": Text,
        "argv": Text,
        "type_desc": String,
    },
}
# The surrogate keys (schema.py's primary keys); the other tables have composite keys we never use.
_PRIMARY = {
    "dbversion": "id",
    "workflow": "wf_id",
    "host": "host_id",
    "job": "job_id",
    "job_instance": "job_instance_id",
    "invocation": "invocation_id",
    "task": "task_id",
}

metadata = MetaData()


def _table(name: str) -> Table:
    key = _PRIMARY.get(name)
    return Table(name, metadata, *(Column(c, ty, primary_key=c == key) for c, ty in SCHEMA[name].items()))


dbversion = _table("dbversion")
workflow = _table("workflow")
workflowstate = _table("workflowstate")
host = _table("host")
job = _table("job")
job_edge = _table("job_edge")
job_instance = _table("job_instance")
jobstate = _table("jobstate")
invocation = _table("invocation")
task = _table("task")

# Job states as monitord writes them (Pegasus/monitoring/job.py).
PRE_START, PRE_END = "PRE_SCRIPT_STARTED", "PRE_SCRIPT_TERMINATED"
SUBMIT, EXECUTE = "SUBMIT", "EXECUTE"
JOB_END_STATES = ("JOB_SUCCESS", "JOB_FAILURE", "JOB_ABORTED")
POST_START = "POST_SCRIPT_STARTED"
POST_END_STATES = ("POST_SCRIPT_SUCCESS", "POST_SCRIPT_FAILED", "POST_SCRIPT_FAILURE")
PRE_END_STATES = ("PRE_SCRIPT_SUCCESS", "PRE_SCRIPT_FAILED", "PRE_SCRIPT_FAILURE")
HELD = "JOB_HELD"

# Every state monitord writes (Pegasus/monitoring/job.py), in name order: the order ties break by.
KNOWN_STATES: tuple[str, ...] = tuple(
    sorted(
        {
            "PRE_SCRIPT_STARTED",
            "PRE_SCRIPT_TERMINATED",
            "PRE_SCRIPT_SUCCESS",
            "PRE_SCRIPT_FAILED",
            "SUBMIT",
            "GRID_SUBMIT",
            "GLOBUS_SUBMIT",
            "SUBMIT_FAILED",
            "EXECUTE",
            "REMOTE_ERROR",
            "IMAGE_SIZE",
            "JOB_TERMINATED",
            "JOB_SUCCESS",
            "JOB_FAILURE",
            "JOB_HELD",
            "JOB_EVICTED",
            "JOB_RELEASED",
            "JOB_ABORTED",
            "JOB_SUSPENDED",
            "JOB_UNSUSPENDED",
            "POST_SCRIPT_STARTED",
            "POST_SCRIPT_TERMINATED",
            "POST_SCRIPT_SUCCESS",
            "POST_SCRIPT_FAILED",
            "DAGMAN_SUBMIT",
        }
    )
)

# The states nearly every try has, in the order a successful try writes them (a CASE tests them first).
FREQUENT_STATES: tuple[str, ...] = (
    "SUBMIT",
    "EXECUTE",
    "IMAGE_SIZE",
    "JOB_TERMINATED",
    "JOB_SUCCESS",
    "POST_SCRIPT_STARTED",
    "POST_SCRIPT_TERMINATED",
    "POST_SCRIPT_SUCCESS",
)
