"""Column names of a Flow-Bench run CSV, grouped by role."""

from __future__ import annotations

LABEL_COLUMN = "anomaly_type"
INDEX_COLUMN = "node_id"

# The paper's sentence features, in the paper's order (Jin et al., SC'24, the sentence template).
PAPER_FEATURES: tuple[str, ...] = (
    "wms_delay",
    "queue_delay",
    "runtime",
    "post_script_delay",
    "stage_in_delay",
    "stage_out_delay",
    "stage_in_bytes",
    "stage_out_bytes",
    "kickstart_executables_cpu_time",
)

TIMESTAMPS: tuple[str, ...] = (
    "ready",
    "pre_script_start",
    "pre_script_end",
    "submit",
    "stage_in_start",
    "stage_in_end",
    "execute_start",
    "execute_end",
    "stage_out_start",
    "stage_out_end",
    "post_script_start",
    "post_script_end",
)

ONLINE_FEATURES: tuple[str, ...] = (
    "kickstart_online_iowait",
    "kickstart_online_bytes_read",
    "kickstart_online_bytes_written",
    "kickstart_online_read_system_calls",
    "kickstart_online_write_system_calls",
    "kickstart_online_utime",
    "kickstart_online_stime",
    "kickstart_online_bytes_read_per_second",
    "kickstart_online_bytes_written_per_second",
)

EXTRA_NUMERIC: tuple[str, ...] = (
    "pre_script_delay",
    "stage_in_effective_bytes_per_sec",
    "stage_out_effective_bytes_per_sec",
)

# Per-job resource usage from a Pegasus submit directory's kickstart records (``mainjob.usage``):
# the CPU-contention and I/O signal a stampede DB lacks. Flow-Bench CSVs do not carry them.
KICKSTART_USAGE: tuple[str, ...] = (
    "kickstart_usage_utime",
    "kickstart_usage_stime",
    "kickstart_usage_maxrss",
    "kickstart_usage_inblock",
    "kickstart_usage_outblock",
    "kickstart_usage_nvcsw",
    "kickstart_usage_nivcsw",
)

NUMERIC_COLUMNS: tuple[str, ...] = (
    PAPER_FEATURES + TIMESTAMPS + ONLINE_FEATURES + EXTRA_NUMERIC + KICKSTART_USAGE
)

TEXT_COLUMNS: tuple[str, ...] = (
    "type",
    "kickstart_hostname",
    "kickstart_transformations",
    "kickstart_executables",
    "kickstart_executables_argv",
    "kickstart_user",
    "kickstart_site",
)

# What a run must carry to be scored. Everything else is optional and filled with NaN.
REQUIRED_COLUMNS: tuple[str, ...] = (
    *PAPER_FEATURES,
    "type",
    "kickstart_hostname",
    "kickstart_transformations",
)
