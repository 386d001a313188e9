"""Hint: is this job's host slower than the other hosts of the same run?"""

from __future__ import annotations

import numpy as np
from flowsleuth.tools.hints._common import SLOW_RATIO, column, finite, ratio_direction, rnd, robust_z
from flowsleuth.workflows.contract import Finding, Subject, ToolResult

NAME = "host_peers"


def _worst_hosts(subject: Subject, top: int = 3) -> list[dict[str, object]]:
    hosts = subject.hosts.sort_values("host_runtime_z", ascending=False, na_position="last")
    return [
        {
            "host": str(h),
            "runtime_vs_peers": rnd(row["host_runtime_vs_peers"]),
            "runtime_z": rnd(row["host_runtime_z"], 2),
            "n_jobs": int(row["n_jobs"]),
        }
        for h, row in hosts.head(top).iterrows()
        if finite(row["host_runtime_z"]) is not None
    ]


def host_peers(subject: Subject) -> ToolResult:
    """Is this job's host slower than the run's other hosts, for the same transformation?

    Peers are the jobs of the same transformation on *other* hosts of this run. Returns the
    job's runtime over the peers' median (`job_vs_peers`), a robust z-score of it
    (`job_runtime_z`, log scale, MAD), the host's own median for that transformation over the
    peers' (`host_vs_peers`), the host's runtime ratio and z over all its jobs against the other
    hosts (`host_runtime_vs_peers`, `host_runtime_z`), the number of peer jobs and hosts, and
    the run's worst hosts. A ratio near 1 and |z| < 2 mean "like its peers". Status no_data
    when the run has a single host or no other host ran this transformation.
    """
    job = subject.job
    frame = subject.run.frame
    hostname = frame["kickstart_hostname"].fillna("")
    same_tf = frame["kickstart_transformations"].fillna("") == job.transformation
    runtime = column(frame, "runtime")
    peers = runtime[same_tf & (hostname != job.host)].to_numpy()
    own = runtime[same_tf & (hostname == job.host)].to_numpy()
    n_hosts = int(hostname.nunique())
    n_peer_hosts = int(hostname[same_tf & (hostname != job.host)].nunique())
    base = {
        "host": job.host,
        "transformation": job.transformation,
        "n_hosts": n_hosts,
        "n_peer_jobs": int(np.isfinite(peers).sum()),
        "n_peer_hosts": n_peer_hosts,
    }
    if n_hosts < 2 or n_peer_hosts == 0 or base["n_peer_jobs"] == 0:
        why = (
            "the run has a single host"
            if n_hosts < 2
            else (f"no other host ran {job.transformation} in this run")
        )
        return ToolResult.no_data(NAME, f"no peers: {why}", data=base, job=job.node_id)
    value = finite(job.feature("runtime"))
    peer_med = float(np.nanmedian(peers))
    host_row = subject.hosts.loc[job.host] if job.host in subject.hosts.index else None
    data = {
        **base,
        "job_runtime": value,
        "peer_median_runtime": rnd(peer_med),
        "job_vs_peers": rnd((value + 1) / (peer_med + 1)) if value is not None else None,
        "job_runtime_z": rnd(robust_z(value, peers), 2) if value is not None else None,
        "host_vs_peers": rnd((np.nanmedian(own) + 1) / (peer_med + 1)) if np.isfinite(own).any() else None,
        "host_runtime_vs_peers": rnd(host_row["host_runtime_vs_peers"]) if host_row is not None else None,
        "host_runtime_z": rnd(host_row["host_runtime_z"], 2) if host_row is not None else None,
        "worst_hosts": _worst_hosts(subject),
    }
    if value is None:
        return ToolResult.no_data(NAME, "the job has no runtime to compare", data=data, job=job.node_id)
    ratio = (value + 1) / (peer_med + 1)
    verdict = "slower than" if ratio >= SLOW_RATIO else ("faster than" if ratio <= 1 / SLOW_RATIO else "like")
    summary = (
        f"{job.node_id} ran {ratio:.2f}x the median of {data['n_peer_jobs']} {job.transformation} "
        f"jobs on {n_peer_hosts} other hosts ({verdict} its peers); host {job.host} is "
        f"{data['host_runtime_vs_peers']}x the other hosts overall (z {data['host_runtime_z']})"
    )
    words = {"higher": "slower than", "lower": "faster than", "same": "like"}
    findings = [
        Finding(
            about="peers",
            text=f"job runtime {ratio:.2f}x the median of {data['n_peer_jobs']} {job.transformation} "
            f"jobs on other hosts ({words[ratio_direction(ratio)]} its peers)",
            numbers=[round(ratio, 2), float(len(peers[np.isfinite(peers)]))],
            direction=ratio_direction(ratio),
        )
    ]
    host_ratio = data["host_runtime_vs_peers"]
    if isinstance(host_ratio, float):
        findings.append(
            Finding(
                about="host",
                text=f"host {job.host} runtime {host_ratio:.2f}x the other hosts overall "
                f"({words[ratio_direction(host_ratio)]} them)",
                numbers=[round(host_ratio, 2)],
                direction=ratio_direction(host_ratio),
            )
        )
    return ToolResult.ok(NAME, data, summary, findings=findings, job=job.node_id)
