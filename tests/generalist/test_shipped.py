"""The shipped generalist models (tools/pretrained/generalist) on a workflow they never saw."""

from __future__ import annotations

import pytest
from flowsleuth.tools.generalist.history import History
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


def _stampede_only(run: Run, run_id: str) -> Run:
    """What a stampede DB gives: no kickstart_online_* and no stage-in/out columns."""
    frame = run.frame.copy()
    drop = [c for c in frame.columns if c.startswith("kickstart_online") or c.startswith("stage_")]
    frame[drop] = float("nan")
    return Run("never-seen", run_id, "test", frame)


def test_shipped_models_work_without_the_online_counters(shipped, cpu_run) -> None:  # type: ignore[no-untyped-def]
    j = judge_run(shipped, _stampede_only(cpu_run, "r1"), None, None)
    assert j.scores.notna().all()
    assert str(j.tier) == "zero-shot" and j.threshold == shipped.portable.threshold  # type: ignore[union-attr]


def test_stampede_runs_get_the_history_tier(shipped, cpu_run, normal_run) -> None:  # type: ignore[no-untyped-def]
    """`baseline add` works for a Pegasus user too: past runs without I/O counters are a history
    for the portable model's history variant."""
    history = History(workflow="never-seen")
    history.add([_stampede_only(normal_run, "past1"), _stampede_only(normal_run, "past2")])
    j = judge_run(shipped, _stampede_only(cpu_run, "now"), history, None)
    assert str(j.tier) == "history (2 runs)"
    assert shipped.portable_hist is not None and j.threshold == shipped.portable_hist.threshold
    assert j.scores.notna().all() and not any("history not used" in n for n in j.notes)
