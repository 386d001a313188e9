"""The judge keeps the judgements of recent runs only: a triage of an archive must not hold
every run it judged (one memo per worker process, for the whole command)."""

from __future__ import annotations

from types import SimpleNamespace

from flowsleuth.tools.generalist import judge as judge_mod


def test_the_memo_keeps_recent_runs_only(monkeypatch) -> None:
    calls: list[str] = []

    def fake_judge_run(models, run, hist, labels, adapter=None):  # type: ignore[no-untyped-def]
        calls.append(run.run_id)
        return f"judgement of {run.run_id}"

    monkeypatch.setattr(judge_mod, "judge_run", fake_judge_run)
    monkeypatch.setattr(judge_mod, "MEMO_RUNS", 2)
    store = SimpleNamespace(history=lambda wf: None, labels=lambda wf: None)
    judge = judge_mod.GeneralistJudge(models=None, store=store)  # type: ignore[arg-type]
    runs = [SimpleNamespace(workflow="w", run_id=f"r{i}") for i in range(3)]
    assert judge.judge(runs[0]) == "judgement of r0"
    judge.judge(runs[1])
    judge.judge(runs[0])  # asked again (a `why`): from the memo, and now the most recent
    judge.judge(runs[2])  # evicts r1, the least recent
    assert calls == ["r0", "r1", "r2"]
    assert len(judge._memo) == 2
    judge.judge(runs[0])
    judge.judge(runs[1])
    assert calls == ["r0", "r1", "r2", "r1"]
