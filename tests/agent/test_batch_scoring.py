"""Scoring small runs as one batch gives each run exactly what scoring it alone gives."""

from __future__ import annotations

import dataclasses

import pytest
from flowsleuth.agent.triage import triage_run
from flowsleuth.cli.app.settings import Settings
from flowsleuth.cli.app.toolkit import Toolkit, load_toolkit
from flowsleuth.cli.triage_out import encode
from flowsleuth.tools.registry import Registry
from flowsleuth.workflows.contract import RunResults, Subject, ToolResult
from flowsleuth.workflows.models import Run


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Toolkit:
    return load_toolkit(Settings(home=tmp_path_factory.mktemp("home")), llm=False, sft=False)


def fresh(runs: list[Run]) -> list[Run]:
    """The same runs as new objects (no memo of any kind hits)."""
    return [dataclasses.replace(r, frame=r.frame.copy()) for r in runs]


def rows(triages: list) -> list[str]:  # type: ignore[type-arg]
    return [encode(t, "jsonl", header=False) for t in triages]


def test_a_batch_scores_each_run_as_it_alone_would(kit: Toolkit, small_runs: list[Run]) -> None:
    runs = small_runs
    alone = rows([triage_run(kit.deps(r)) for r in fresh(runs)])
    judge = kit.generalist
    assert judge is not None
    judge._memo.clear()  # the generalist's judgements are memoised by run id
    together = rows([triage_run(d) for d in kit.deps_many(fresh(runs))])
    assert together == alone
    by_tool_alone = kit.deps(fresh(runs)[1]).scores.by_tool
    judge._memo.clear()
    by_tool_batch = kit.deps_many(fresh(runs)[:3])[1].scores.by_tool
    assert set(by_tool_alone) == set(by_tool_batch)
    for name in by_tool_alone:
        assert by_tool_batch[name] == by_tool_alone[name], name


def _tool_registry(many_fails_on: str | None, calls: list[str], source: str = "builtin") -> Registry:
    def one(subject: Subject) -> RunResults:
        if subject.run.run_id == many_fails_on:
            raise ValueError("bad run")
        ok = ToolResult.ok("probe", {"score": 0.5}, "ok")
        return RunResults(dict.fromkeys(subject.focus_jobs, ok), ok)

    def many(subjects: list[Subject]) -> list[RunResults]:
        calls.append("many")
        return [one(s) for s in subjects]

    reg = Registry()
    reg.register(
        lambda s: ToolResult.ok("probe", {}, "ok"), "probe", source, kind="score", batch=one, many=many
    )
    return reg


def test_a_bad_run_fails_alone_and_the_others_are_kept(small_runs: list[Run]) -> None:
    runs = small_runs[:4]
    calls: list[str] = []
    reg = _tool_registry(runs[2].run_id, calls)
    out = reg.run_batches([Subject(r) for r in runs], ["score"])
    assert calls == ["many"]  # tried together once, then run by run
    for i, answer in enumerate(out):
        res = answer["probe"]
        assert set(res.jobs) == set(runs[i].job_ids)
        bad = i == 2
        assert all((r.status.value == "error") is bad for r in res.jobs.values())
    assert "bad run" in (out[2]["probe"].run.error or "")  # type: ignore[union-attr]


def test_a_good_batch_is_one_call_equal_to_run_by_run(small_runs: list[Run]) -> None:
    runs = small_runs[:3]
    calls: list[str] = []
    reg = _tool_registry(None, calls)
    together = reg.run_batches([Subject(r) for r in runs], ["score"])
    assert calls == ["many"]
    assert together == [reg.run_batch(Subject(r), ["score"]) for r in runs]


def test_a_plugin_is_called_run_by_run(small_runs: list[Run]) -> None:
    calls: list[str] = []
    reg = _tool_registry(None, calls, source="entry_point:someone")
    out = reg.run_batches([Subject(r) for r in small_runs[:3]], ["score"])
    assert calls == []  # its many-runs form is not trusted with other runs' data
    assert all(r.status.value == "ok" for a in out for r in a["probe"].jobs.values())


def test_batches_keep_input_order_and_skipped_runs(small_runs: list[Run]) -> None:
    from flowsleuth.cli.app import batches

    runs = small_runs
    groups = list(batches.batched(runs, lambda r: r.run_id.endswith("-2"), max_runs=5))
    assert [r for g in groups for r, _ in g] == runs  # input order, nothing lost
    assert all(sum(not done for _, done in g) <= 5 for g in groups)
    assert [r.run_id for g in groups for r, done in g if done] == [
        r.run_id for r in runs if r.run_id.endswith("-2")
    ]


def test_a_batch_ends_at_its_job_cap(small_runs: list[Run]) -> None:
    from flowsleuth.cli.app import batches

    runs = small_runs[:6]  # 12, 28, 1, 19, 12, 28 jobs
    groups = list(batches.batched(runs, lambda r: False, max_jobs=30))
    sizes = [[len(r.frame) for r, _ in g] for g in groups]
    assert [r for g in groups for r, _ in g] == runs
    assert sizes == [[12, 28], [1, 19, 12], [28]]  # each ends at the run that reaches 30 jobs
