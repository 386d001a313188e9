"""The shipped generalist models (tools/pretrained/generalist) on a workflow they never saw."""

from __future__ import annotations

import pytest
from flowsleuth.tools.generalist.scoring import Generalist, judge_run
from flowsleuth.tools.pretrained import generalist_dir
from flowsleuth.workflows.models import Run


@pytest.fixture(scope="module")
def shipped() -> Generalist:
    path = generalist_dir()
    if path is None:
        pytest.skip("no generalist models shipped in this checkout")
    return Generalist.load(path)


def test_shipped_models_judge_an_unseen_workflow_zero_shot(shipped, cpu_run) -> None:  # type: ignore[no-untyped-def]
    run = Run("never-seen", cpu_run.run_id, cpu_run.source, cpu_run.frame)  # no labels, new name
    j = judge_run(shipped, run, None, None)
    assert str(j.tier) == "zero-shot"
    assert any("no history" in n for n in j.notes)
    assert j.scores.between(0, 1).all() and len(j.scores) == len(run.frame)
    assert 0.05 <= j.threshold <= 0.95
    assert shipped.hist is not None


def test_shipped_models_work_without_the_online_counters(shipped, cpu_run) -> None:  # type: ignore[no-untyped-def]
    """What a stampede DB gives: no kickstart_online_* and no stage-in/out columns."""
    frame = cpu_run.frame.copy()
    drop = [c for c in frame.columns if c.startswith("kickstart_online") or c.startswith("stage_")]
    frame[drop] = float("nan")
    j = judge_run(shipped, Run("never-seen", "r1", "test", frame), None, None)
    assert j.scores.notna().all()
