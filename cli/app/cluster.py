"""``triage --scheduler ADDRESS``: runs scored on a Dask distributed cluster.

A worker plugin loads the toolkit once per Dask worker (workers need the package and a home
they can read, nothing else). A task scores a batch of consecutive small runs in one pass (see
:mod:`.batches`). Results stream back with ``as_completed`` and are buffered so the parent
writes them in input order. Dask reschedules the task of a worker that dies; a run whose
task kills workers too often (``KilledWorker``) or fails is reported like any bad run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flowsleuth.cli.app.batches import batched, parallel_caps
from flowsleuth.cli.app.settings import Settings
from flowsleuth.cli.app.toolkit import Toolkit
from flowsleuth.cli.app.work import Outcome, load_worker_kit, score_many
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run

PLUGIN = "flowsleuth-toolkit"


def _plugin_class() -> type:
    from distributed.diagnostics.plugin import WorkerPlugin

    class ToolkitPlugin(WorkerPlugin):
        """Loads the toolkit when a worker starts (or joins later); tasks read it from here."""

        name = PLUGIN

        def __init__(self, settings: Settings, sft: bool) -> None:
            self.settings, self.sft = settings, sft
            self.kit: Toolkit | str | None = None

        def setup(self, worker: Any) -> None:
            try:
                self.kit = load_worker_kit(self.settings, self.sft)
            except Exception as err:  # reported per run, never a dead worker
                self.kit = f"the worker could not load its models ({type(err).__name__}: {err})"

    return ToolkitPlugin


def _work(runs: list[Run]) -> list[Outcome]:
    from distributed import get_worker

    kit = getattr(get_worker().plugins.get(PLUGIN), "kit", None)
    if kit is None or isinstance(kit, str):
        return [kit or "the worker has no flowsleuth toolkit plugin"] * len(runs)
    return score_many(kit, runs)


class ClusterScorer:
    """Score runs on the Dask cluster whose scheduler is at ``address``."""

    def __init__(self, settings: Settings, sft: bool, address: str, timeout_s: float = 30.0) -> None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - a dependency
            raise FlowsleuthError("--scheduler needs dask.distributed (pip install distributed)") from None
        try:
            self.client = Client(address, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise FlowsleuthError(f"cannot reach the Dask scheduler at {address} ({err})") from None
        self.client.register_plugin(_plugin_class()(settings, sft), name=PLUGIN)
        self.batch_jobs = settings.batch_jobs
        workers = len(self.client.scheduler_info(n_workers=-1)["workers"])
        self.window = 2 * max(workers, 1)  # batches of runs

    def map(self, runs: Iterable[Run], skip: Callable[[Run], bool]) -> Iterator[tuple[Run, Outcome | None]]:
        """``(run, outcome)`` in input order; ``None`` for a run ``skip`` says is already done."""
        from distributed import as_completed

        pending = as_completed(loop=self.client.loop)  # not the default client's
        held: dict[int, list[Outcome]] = {}  # batches finished out of order, or all skipped
        index_of: dict[object, int] = {}  # in flight: task key -> batch position
        batches: dict[int, list[tuple[Run, bool]]] = {}
        source = enumerate(batched(runs, skip, **parallel_caps(self.batch_jobs)))
        submitted = next_out = 0
        exhausted = False
        while True:
            while not exhausted and submitted - next_out < self.window:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                i, items = item
                submitted = i + 1
                batches[i] = items
                todo = [r for r, done in items if not done]
                if not todo:
                    held[i] = []
                    continue
                fut = self.client.submit(_work, todo, pure=False, key=f"flowsleuth-triage-{i}-{id(self)}")
                index_of[fut.key] = i
                pending.add(fut)
            while next_out in held:
                scored = iter(held.pop(next_out))
                for run, done in batches.pop(next_out):
                    yield run, (None if done else next(scored))
                next_out += 1
            if not index_of:
                if exhausted:
                    return
                continue
            fut = next(pending)
            i = index_of.pop(fut.key)
            n = sum(not done for _, done in batches[i])
            try:
                outcomes: list[Outcome] = fut.result()
            except Exception as err:  # KilledWorker, a lost task: its runs' failure
                outcomes = [f"scoring failed on the cluster ({type(err).__name__}: {err})"] * n
            fut.release()
            held[i] = outcomes

    def close(self) -> None:
        self.client.close()
