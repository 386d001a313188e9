"""Synthetic runs for the generalist tests: a few hosts, a few transformations, and (for
anomalous runs) slow hosts whose jobs carry the label, as in Flow-Bench."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.schema import NUMERIC_COLUMNS, TEXT_COLUMNS


def synth_run(
    workflow: str,
    number: int,
    *,
    kind: str = "None",
    n_hosts: int = 6,
    jobs_per_tf: int = 12,
    scale: float = 1.0,
    seed: int = 0,
    online: bool = True,
) -> Run:
    """One run; ``kind`` 'cpu_2' slows two hosts' runtimes 3x at equal cpu time, 'hdd_5'
    slows every host and two of them much more. ``scale`` sets the workflow's units."""
    rng = np.random.default_rng(seed * 1000 + number)
    rows = []
    bad_hosts = {"h0", "h1"} if kind != "None" else set()
    for t, base in enumerate((10.0, 60.0, 300.0)):
        for j in range(jobs_per_tf):
            host = f"h{(j + t) % n_hosts}"
            runtime = base * scale * rng.lognormal(0, 0.1)
            cpu = runtime * 0.9
            iowait = runtime * 0.05
            if kind.startswith("hdd"):
                runtime *= 1.5
                iowait = runtime * 0.3
            if host in bad_hosts:
                runtime *= 3.0
                if kind.startswith("hdd"):
                    iowait = runtime * 0.7
            rows.append(
                {
                    "node_id": f"tf{t}_ID{j:05d}",
                    "runtime": runtime,
                    "kickstart_executables_cpu_time": cpu,
                    "kickstart_online_iowait": iowait if online else np.nan,
                    "queue_delay": rng.uniform(1, 5),
                    "kickstart_transformations": f"{workflow}::tf{t}",
                    "kickstart_hostname": host,
                    "type": "compute",
                    "label": kind if host in bad_hosts else "None",
                }
            )
    df = pd.DataFrame(rows).set_index("node_id")
    frame = pd.DataFrame(index=df.index)
    for c in NUMERIC_COLUMNS:
        frame[c] = df[c] if c in df.columns else (0.0 if online else np.nan)
    for c in TEXT_COLUMNS:
        frame[c] = df[c] if c in df.columns else ""
    return Run(
        workflow=workflow,
        run_id=f"{workflow}-run{number:04d}",
        source="synthetic",
        frame=frame,
        labels=df["label"],
        injected=kind,
    )


def synth_runs(workflow: str, n: int, *, scale: float = 1.0, seed: int = 0) -> list[Run]:
    kinds = ("None", "cpu_2", "hdd_5")
    return [synth_run(workflow, i, kind=kinds[i % 3], scale=scale, seed=seed) for i in range(n)]


@pytest.fixture(scope="module")
def three_workflows() -> list[Run]:
    return [
        *synth_runs("alpha", 9, scale=1.0, seed=1),
        *synth_runs("beta", 9, scale=20.0, seed=2),
        *synth_runs("gamma", 9, scale=0.1, seed=3),
    ]


@pytest.fixture(scope="session")
def make_run():  # type: ignore[no-untyped-def]
    """The :func:`synth_run` factory (tests run under --import-mode=importlib)."""
    return synth_run


def write_run(run: Run, path):  # type: ignore[no-untyped-def]
    """The run as a Flow-Bench CSV (labels in ``anomaly_type``)."""
    frame = run.frame.copy()
    frame["anomaly_type"] = run.labels
    frame.index.name = "node_id"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path)
    return path


@pytest.fixture(scope="session")
def generalist_home(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A home holding tiny generalist models fitted on three synthetic workflows."""
    from flowsleuth.tools.generalist.history import History
    from flowsleuth.tools.generalist.scoring import Generalist
    from flowsleuth.tools.generalist.train import fit_all

    runs = [
        *synth_runs("alpha", 9, scale=1.0, seed=1),
        *synth_runs("beta", 9, scale=20.0, seed=2),
        *synth_runs("gamma", 9, scale=0.1, seed=3),
    ]
    zero, zero_kind = fit_all(runs, rounds=30)
    hists = {}
    for wf in ("alpha", "beta", "gamma"):
        hists[wf] = History(workflow=wf)
        hists[wf].add(synth_runs(wf, 3, seed=50))
    hist, hist_kind = fit_all(runs, hists, rounds=30)
    home = tmp_path_factory.mktemp("ghome")
    Generalist(zero, zero_kind, hist, hist_kind).save(home / "models" / "generalist")
    return home


@pytest.fixture(scope="session")
def write_csv():  # type: ignore[no-untyped-def]
    return write_run
