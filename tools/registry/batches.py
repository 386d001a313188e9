"""Score a batch of small runs: every tool once for the batch where it can, per run otherwise.

Each subject gets exactly what :meth:`Registry.run_batch` would give it alone; only the cost
differs. Per tool:

* a built-in tool with a many-runs form (``many``) runs it once for the whole batch (limit: the
  registry's ``batch_timeout_s``; a batch holds no more jobs than one large run);
* a built-in tool with only a whole-run form runs it on each subject in turn, in one thread;
* a plugin is called per subject, exactly as :meth:`Registry.run_batch` calls it (its own
  isolated copy, its own time limit).

When a batch call fails (raises, times out, answers for the wrong number of runs), the tool is
called again per subject, so one bad run gets its own error result and the others are not lost.
Tools run in parallel with each other, as for one run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from flowsleuth.tools.registry.isolation import is_plugin
from flowsleuth.tools.registry.runner import Call, checked_run
from flowsleuth.workflows.batch import Batch, contexts_of
from flowsleuth.workflows.contract import RunResults, Subject

if TYPE_CHECKING:
    from flowsleuth.tools.registry.core import RegisteredTool, Registry

Results = list[RunResults]


def warm_all(subjects: Sequence[Subject]) -> list[Subject]:
    """Every subject with its run facts, the run contexts of the unwarmed ones computed as one
    batch (each equal to its run's own; a batch that cannot be computed falls back per run)."""
    cold = [s.run for s in subjects if s.facts is None and len(s.run.frame)]
    if len(cold) > 1:
        with contextlib.suppress(Exception):  # each run then warms alone and raises its own error
            contexts_of(Batch(cold))
    return [s.warmed() for s in subjects]


def run_batches(
    registry: Registry, subjects: Sequence[Subject], tools: Sequence[RegisteredTool]
) -> list[dict[str, RunResults]]:
    subjects = [s.for_job(s.job_id) for s in warm_all(subjects)]
    calls = [_start(registry, t, subjects) for t in tools]
    answers = [c.result() for c in calls]
    return [{t.name: a[i] for t, a in zip(tools, answers, strict=True)} for i in range(len(subjects))]


def _start(registry: Registry, tool: RegisteredTool, subjects: Sequence[Subject]) -> Call[Results]:
    """One call answering for every subject (its result is awaited with no limit of its own:
    every call inside it has one)."""
    one_by_one = _one_by_one(registry, tool, subjects)
    if tool.unmet() or is_plugin(tool.source) or (tool.many is None and tool.batch is None):
        return _thread(tool.name, one_by_one)
    many = tool.many
    batch = tool.batch

    def together() -> Results:
        if many is not None:
            out = list(many(subjects))
        else:
            assert batch is not None
            out = [batch(s) for s in subjects]
        if len(out) != len(subjects):
            raise ValueError(f"answered for {len(out)} of {len(subjects)} runs")
        return [checked_run(tool.name, s, o) for s, o in zip(subjects, out, strict=True)]

    inner = Call.start(tool.name, together, registry.batch_timeout_s, lambda _: [])

    def settled() -> Results:
        out = inner.result()
        return out if out else one_by_one()  # failed together: each run alone, its own error

    return _thread(tool.name, settled)


def _one_by_one(
    registry: Registry, tool: RegisteredTool, subjects: Sequence[Subject]
) -> Callable[[], Results]:
    def run() -> Results:
        # in turn, as run_batch would one run after another (the calls keep their own limits)
        return [registry._batch_call(tool, s).result() for s in subjects]

    return run


def _thread(name: str, fn: Callable[[], Results]) -> Call[Results]:
    """``fn`` in its own thread, awaited without a limit: every tool call in it has its own and
    turns a failure into results, so it only raises on a bug here."""
    return Call.start(f"{name}-batch", fn, None, _internal)


def _internal(why: str) -> Results:
    raise RuntimeError(f"internal: a batch of runs could not be scored ({why})")
