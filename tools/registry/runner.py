"""Run tools safely and in parallel: a per-call time limit and a result that is always typed.

Each call runs in its own daemon thread and reports through a ``concurrent.futures.Future``.
Not a ``ThreadPoolExecutor``: its worker threads are joined at interpreter exit, so one hung
plugin would keep the process from ever exiting. A daemon thread is abandoned instead (Python
cannot kill a thread), and because tools only get a frozen subject and read-only services, an
abandoned thread cannot change what later tools see.

A tool that raises, returns garbage or runs past its limit becomes an ``error`` result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from flowsleuth.tools.registry.isolation import enter_plugin_thread, leave_plugin_thread
from flowsleuth.workflows.contract import RunResults, RunToolFn, Subject, ToolFn, ToolResult
from pydantic import ValidationError

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_BATCH_TIMEOUT_S = 300.0  # one call scores a whole run (thousands of jobs)
T = TypeVar("T")


class Call(Generic[T]):
    """A started tool call; :meth:`result` waits until its deadline at most."""

    def __init__(self, future: Future[T], timeout_s: float | None, on_error: Callable[[str], T]) -> None:
        self._future = future
        self._timeout_s = timeout_s
        self._deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self._on_error = on_error

    @classmethod
    def done(cls, value: T) -> Call[T]:
        future: Future[T] = Future()
        future.set_result(value)
        return cls(future, None, lambda _: value)

    @classmethod
    def start(
        cls,
        name: str,
        fn: Callable[[], T],
        timeout_s: float | None,
        on_error: Callable[[str], T],
        *,
        plugin: bool = False,
    ) -> Call[T]:
        future: Future[T] = Future()

        def target() -> None:
            if plugin:
                enter_plugin_thread()
            try:
                future.set_result(fn())
            except BaseException as err:  # a plugin must never take the investigation down
                future.set_exception(err)
            finally:
                if plugin:
                    leave_plugin_thread()

        threading.Thread(target=target, name=f"tool-{name}", daemon=True).start()
        return cls(future, timeout_s, on_error)

    def result(self) -> T:
        remaining = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
        try:
            return self._future.result(remaining)
        except TimeoutError:
            return self._on_error(f"timed out after {self._timeout_s:g} s")
        except BaseException as err:
            return self._on_error(f"raised {type(err).__name__}: {err}")


def _coerce(name: str, value: Any) -> ToolResult:
    """The tool's return value as a ToolResult named ``name``, or an error result."""
    if isinstance(value, ToolResult):
        return value if value.tool == name else value.model_copy(update={"tool": name})
    if isinstance(value, dict):
        try:
            return ToolResult.model_validate({**value, "tool": name})
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            return ToolResult.failed(name, f"returned an invalid result ({where}: {first['msg']})")
    return ToolResult.failed(name, f"returned {type(value).__name__}, not a ToolResult")


def _invocation(subject: Subject) -> dict[str, Any]:
    return {"run": subject.run.run_id, "job": subject.job_id}


def call_tool(
    name: str,
    fn: ToolFn,
    subject: Subject,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
    *,
    plugin: bool = False,
) -> Call[ToolResult]:
    """Start ``fn(subject)``; its result is an error result after ``timeout_s`` (None: wait).
    ``plugin``: its prints go to stderr, never into ``--json`` on stdout."""
    inv = _invocation(subject)

    def run() -> ToolResult:
        result = _coerce(name, fn(subject))
        return result if result.invocation else result.model_copy(update={"invocation": inv})

    return Call.start(name, run, timeout_s, lambda why: ToolResult.failed(name, why, **inv), plugin=plugin)


def failed_run(name: str, subject: Subject, why: str) -> RunResults:
    """Every focus job of the subject (and the run) failed with ``why``."""
    err = ToolResult.failed(name, why, run=subject.run.run_id)
    return RunResults(dict.fromkeys(subject.focus_jobs, err), err)


def checked_run(name: str, subject: Subject, out: object) -> RunResults:
    """A whole-run form's answer for ``subject``, with a typed result for every focus job."""
    if not isinstance(out, RunResults):
        return failed_run(name, subject, f"returned {type(out).__name__}, not RunResults")
    jobs = {
        j: _coerce(name, out.jobs[j])
        if j in out.jobs
        else ToolResult.failed(name, f"gave no result for job {j!r}", run=subject.run.run_id, job=j)
        for j in subject.focus_jobs
    }
    return RunResults(jobs, None if out.run is None else _coerce(name, out.run))


def call_batch(
    name: str, fn: RunToolFn, subject: Subject, timeout_s: float | None, *, plugin: bool = False
) -> Call[RunResults]:
    """Start the whole-run form ``fn(subject)``: a result for every job of the run, always."""
    return Call.start(
        name,
        lambda: checked_run(name, subject, fn(subject)),
        timeout_s,
        lambda why: failed_run(name, subject, why),
        plugin=plugin,
    )
