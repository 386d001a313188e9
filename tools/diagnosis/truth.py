"""Ground truth for fitting and measuring the diagnosis (reads labels; never a feature)."""

from __future__ import annotations

from flowsleuth.workflows.labels import parse_label
from flowsleuth.workflows.models import Run


def culprit_hosts(run: Run) -> set[str]:
    """Hosts with at least one job labelled anomalous in this run (empty without labels)."""
    if run.labels is None:
        return set()
    bad = run.labels.map(lambda raw: parse_label(str(raw)).is_anomalous)
    hosts = run.frame["kickstart_hostname"].fillna("")
    return set(hosts[bad.to_numpy()].tolist())
