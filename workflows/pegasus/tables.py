"""The stampede tables and columns this reader uses, named as in Pegasus's ``Pegasus/db/schema.py``.

Only the columns read are declared: the reader never creates, alters or writes a table.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, Text

SUPPORTED_VERSIONS = (14,)  # what Pegasus 5.0 monitord writes; 4.x wrote older versions

metadata = MetaData()

dbversion = Table(
    "dbversion",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version_number", Integer),
    Column("version", String),
    Column("version_timestamp", Integer),
)

workflow = Table(
    "workflow",
    metadata,
    Column("wf_id", Integer, primary_key=True),
    Column("wf_uuid", String),
    Column("dag_file_name", String),
    Column("timestamp", Numeric(16, 6, asdecimal=False)),
    Column("submit_dir", Text),
    Column("dax_label", String),
    Column("parent_wf_id", Integer),
    Column("root_wf_id", Integer),
)

workflowstate = Table(
    "workflowstate",
    metadata,
    Column("wf_id", Integer),
    Column("state", String),
    Column("timestamp", Numeric(16, 6, asdecimal=False)),
    Column("restart_count", Integer),
    Column("status", Integer),
)

host = Table(
    "host",
    metadata,
    Column("host_id", Integer, primary_key=True),
    Column("wf_id", Integer),
    Column("site", String),
    Column("hostname", String),
    Column("ip", String),
)

job = Table(
    "job",
    metadata,
    Column("job_id", Integer, primary_key=True),
    Column("wf_id", Integer),
    Column("exec_job_id", String),
    Column("submit_file", String),
    Column("type_desc", String),
    Column("clustered", Integer),
    Column("max_retries", Integer),
    Column("executable", Text),
    Column("argv", Text),
    Column("task_count", Integer),
)

job_edge = Table(
    "job_edge",
    metadata,
    Column("wf_id", Integer),
    Column("parent_exec_job_id", String),
    Column("child_exec_job_id", String),
)

job_instance = Table(
    "job_instance",
    metadata,
    Column("job_instance_id", Integer, primary_key=True),
    Column("job_id", Integer),
    Column("host_id", Integer),
    Column("job_submit_seq", Integer),
    Column("sched_id", String),
    Column("site", String),
    Column("user", String),
    Column("work_dir", Text),
    Column("local_duration", Numeric(10, 3, asdecimal=False)),
    Column("subwf_id", Integer),
    Column("stdout_file", String),
    Column("stdout_text", Text),
    Column("stderr_file", String),
    Column("stderr_text", Text),
    Column("multiplier_factor", Integer),
    Column("exitcode", Integer),
)

jobstate = Table(
    "jobstate",
    metadata,
    Column("job_instance_id", Integer),
    Column("state", String),
    Column("timestamp", Numeric(16, 6, asdecimal=False)),
    Column("jobstate_submit_seq", Integer),
    Column("reason", Text),
)

invocation = Table(
    "invocation",
    metadata,
    Column("invocation_id", Integer, primary_key=True),
    Column("wf_id", Integer),
    Column("job_instance_id", Integer),
    Column("task_submit_seq", Integer),
    Column("start_time", Numeric(16, 6, asdecimal=False)),
    Column("remote_duration", Numeric(10, 3, asdecimal=False)),
    Column("remote_cpu_time", Numeric(10, 3, asdecimal=False)),
    Column("exitcode", Integer),
    Column("transformation", Text),
    Column("executable", Text),
    Column("argv", Text),
    Column("abs_task_id", String),
    Column("maxrss", Integer),
    Column("avg_cpu", Numeric(16, 6, asdecimal=False)),
)

task = Table(
    "task",
    metadata,
    Column("task_id", Integer, primary_key=True),
    Column("wf_id", Integer),
    Column("job_id", Integer),
    Column("abs_task_id", String),
    Column("transformation", Text),
    Column("argv", Text),
    Column("type_desc", String),
)

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
