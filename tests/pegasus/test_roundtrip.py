"""Flow-Bench runs written into a stampede DB as monitord would, read back: equal values for every
column both sides have. This checks that the reader's column formulas are Flow-Bench's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from flowsleuth.workflows.loader import iter_runs
from flowsleuth.workflows.names import PAPER_NAMES
from flowsleuth.workflows.pegasus import iter_pegasus_runs
from flowsleuth.workflows.pegasus.writer import write_stampede
from flowsleuth.workflows.schema import TEXT_COLUMNS, TIMESTAMPS

SAMPLE = Path(__file__).resolve().parents[2] / "workflows" / "sample"
SHARED_NUMERIC = (
    *(c for c in TIMESTAMPS if not c.startswith("stage_")),
    "wms_delay",
    "pre_script_delay",
    "queue_delay",
    "runtime",
    "post_script_delay",
    "kickstart_executables_cpu_time",
)


def _edges(run) -> list[tuple[str, str]]:
    adj = json.loads((SAMPLE / "dags" / f"{PAPER_NAMES[run.workflow]}.json").read_text())
    nodes = set(run.job_ids)
    return [(p, c) for p, kids in adj.items() for c in kids if p in nodes and c in nodes]


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory):
    runs = list(iter_runs(SAMPLE / "runs"))
    db = tmp_path_factory.mktemp("rt") / "flowbench.stampede.db"
    write_stampede(db, runs, {r.run_id: _edges(r) for r in runs})
    back = {r.run_id: r for r in iter_pegasus_runs(db)}
    return [(r, back[r.run_id]) for r in runs]


def test_every_run_comes_back(pairs) -> None:
    assert len(pairs) >= 10
    for orig, back in pairs:
        assert back.workflow == orig.workflow and sorted(back.job_ids) == sorted(orig.job_ids)


def _flattened_subworkflow_roots(run) -> set[str]:
    """Flow-Bench flattens Predict Future Sales' sub-workflows into the parent run. Their first
    jobs (``create_dir_..._pegasus-plan_IDnnn``) are ready at the sub-workflow's own start; in a
    stampede DB that sub-workflow is a workflow of its own, which one flat run cannot express."""
    return {j for j in run.job_ids if j.startswith("create_dir_") and "_pegasus-plan_ID" in j}


@pytest.mark.parametrize("column", SHARED_NUMERIC)
def test_numeric_column_round_trips(pairs, column: str) -> None:
    for orig, back in pairs:
        skip = _flattened_subworkflow_roots(orig) if column in ("ready", "wms_delay") else set()
        index = orig.frame.index.difference(sorted(skip))
        a = orig.frame.loc[index, column].to_numpy(float)
        b = back.frame.loc[index, column].to_numpy(float)
        bad = ~np.isclose(a, b, equal_nan=True, rtol=0, atol=1e-6)
        assert not bad.any(), f"{orig.run_id} {column}: {index[bad][:3].tolist()}"


def test_only_pfs_has_flattened_sub_workflows(pairs) -> None:
    for orig, _ in pairs:
        n = len(_flattened_subworkflow_roots(orig))
        assert (n > 0) == (orig.workflow == "predict-future-sales"), orig.run_id


@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_text_column_round_trips(pairs, column: str) -> None:
    for orig, back in pairs:
        a = orig.frame[column].fillna("").astype(str)
        b = back.frame.loc[orig.frame.index, column].astype(str)
        assert (a == b).all(), f"{orig.run_id} {column}"


def test_all_jobs_succeeded(pairs) -> None:
    for _, back in pairs:
        assert set(back.status["outcome"]) == {"succeeded"}
