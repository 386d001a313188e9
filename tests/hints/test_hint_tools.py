"""The four root-cause hints on real sample runs, and on runs cut to break them."""

from __future__ import annotations

import math

import pytest
from flowsleuth.tools.diagnosis.truth import culprit_hosts
from flowsleuth.tools.hints import (
    HINTS,
    dag_neighbours,
    host_peers,
    resource_signature,
    transformation_baseline,
)
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.contract import Subject, ToolResult, ToolStatus
from flowsleuth.workflows.dag import Dag
from flowsleuth.workflows.models import Run


def test_host_peers_flags_the_culprit_host(cpu_subject: Subject, culprit_id: str) -> None:
    res = host_peers(cpu_subject.for_job(culprit_id))
    assert res.status is ToolStatus.OK
    assert res.data["job_vs_peers"] > 1.5
    assert res.data["n_peer_jobs"] > 10 and res.data["n_peer_hosts"] > 5
    worst = {w["host"] for w in res.data["worst_hosts"]}
    assert worst <= culprit_hosts(cpu_subject.run)  # the run's worst hosts are labelled ones


def test_host_peers_normal_job_is_like_its_peers(normal_run: Run) -> None:
    subject = Subject(normal_run)
    job = normal_run.frame.index[normal_run.frame["kickstart_transformations"] == "individuals"][0]
    res = host_peers(subject.for_job(str(job)))
    assert res.status is ToolStatus.OK
    assert 0.5 < res.data["job_vs_peers"] < 1.5


@pytest.mark.parametrize("fixture", ["single_host_run", "single_job_run"])
def test_host_peers_without_peers_says_so(
    fixture: str, request: pytest.FixtureRequest, culprit_id: str
) -> None:
    run: Run = request.getfixturevalue(fixture)
    res = host_peers(Subject(run, culprit_id))
    assert res.status is ToolStatus.NO_DATA
    assert res.summary.startswith("no peers")


def test_transformation_baseline_against_normal_runs(cpu_subject: Subject, culprit_id: str) -> None:
    res = transformation_baseline(cpu_subject.for_job(culprit_id))
    assert res.status is ToolStatus.OK
    assert res.data["reference"] == "baseline"
    assert res.data["percentiles"]["runtime"] >= 95


def test_transformation_baseline_falls_back_to_the_run(cpu_run: Run, culprit_id: str) -> None:
    res = transformation_baseline(Subject(cpu_run, culprit_id, baseline=BaselineProfile()))
    assert res.data["reference"] == "run"
    assert "no normal profile" in res.summary
    assert 0 <= res.data["percentiles"]["runtime"] <= 100


def test_resource_signature_cpu_on_cpu_culprit(cpu_subject: Subject, culprit_id: str) -> None:
    res = resource_signature(cpu_subject.for_job(culprit_id))
    assert res.data["signature"] == "cpu"
    assert "runtime" in res.data["drivers"]


def _edited(run: Run, node: str, **values: float) -> Run:
    frame = run.frame.copy()
    for col, v in values.items():
        frame.loc[node, col] = v
    return Run(run.workflow, run.run_id, run.source, frame, run.labels, run.injected)


def test_resource_signature_io_and_scheduler(normal_run: Run) -> None:
    node = str(normal_run.frame.index[normal_run.frame["kickstart_transformations"] == "individuals"][0])
    io_run = _edited(normal_run, node, stage_in_delay=1e5, stage_out_delay=1e5)
    assert resource_signature(Subject(io_run, node)).data["signature"] == "io"
    sched_run = _edited(normal_run, node, queue_delay=1e5, wms_delay=1e4)
    assert resource_signature(Subject(sched_run, node)).data["signature"] == "scheduler"


def test_dag_neighbours_source_and_victim(normal_run: Run) -> None:
    frame = normal_run.frame
    ids = [str(i) for i in frame.index[frame["kickstart_transformations"] == "individuals"][:2]]
    dag = Dag.from_adjacency({ids[0]: [ids[1]]})
    slow = _edited(normal_run, ids[0], runtime=float(frame.loc[ids[0], "runtime"]) * 10)
    assert dag_neighbours(Subject(slow, ids[0], dag=dag)).data["role"] == "source"
    victim = dag_neighbours(Subject(slow, ids[1], dag=dag))
    assert victim.data["role"] == "victim of an upstream delay"
    assert victim.data["parents_slow_share"] == 1.0


def test_dag_neighbours_unknown_dag_is_no_data(cpu_run: Run, culprit_id: str) -> None:
    unknown = Run("mystery", "x", "x.csv", cpu_run.frame, None, None)
    res = dag_neighbours(Subject(unknown, culprit_id))
    assert res.status is ToolStatus.NO_DATA


@pytest.mark.parametrize("name", sorted(HINTS))
def test_every_hint_survives_a_job_with_no_numbers(name: str, nan_run: Run, culprit_id: str) -> None:
    res = HINTS[name](Subject(nan_run, culprit_id))
    assert isinstance(res, ToolResult)
    assert res.status in (ToolStatus.OK, ToolStatus.NO_DATA)
    assert all(math.isfinite(v) for _, v in res.numbers())


@pytest.mark.parametrize("name", sorted(HINTS))
def test_every_hint_has_a_prompt_docstring(name: str) -> None:
    doc = HINTS[name].__doc__ or ""
    first = doc.strip().splitlines()[0]
    assert first.endswith("?") and len(first) <= 100
    assert "no_data" in doc
