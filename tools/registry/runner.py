"""Run one tool safely: a per-tool timeout (thread-based) and a result that is always a
:class:`ToolResult`. A tool that raises, returns garbage or hangs becomes an ``error`` result.
"""

from __future__ import annotations

import threading
from typing import Any

from flowsleuth.tools.registry.isolation import enter_plugin_thread, leave_plugin_thread
from flowsleuth.workflows.contract import Subject, ToolFn, ToolResult
from pydantic import ValidationError

DEFAULT_TIMEOUT_S = 10.0


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
) -> ToolResult:
    """Call ``fn(subject)`` in a daemon thread; give up after ``timeout_s`` (None: wait).

    A hung tool's thread is abandoned (Python cannot kill a thread); being a daemon, it never
    blocks the process from exiting.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        if plugin:
            enter_plugin_thread()  # its prints go to stderr, never into --json on stdout
        try:
            box["value"] = fn(subject)
        except BaseException as err:  # a plugin must never take the investigation down
            box["error"] = err
        finally:
            if plugin:
                leave_plugin_thread()

    worker = threading.Thread(target=target, name=f"tool-{name}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    inv = _invocation(subject)
    if worker.is_alive():
        return ToolResult.failed(name, f"timed out after {timeout_s:g} s", **inv)
    if "error" in box:
        err = box["error"]
        return ToolResult.failed(name, f"raised {type(err).__name__}: {err}", **inv)
    result = _coerce(name, box.get("value"))
    if not result.invocation:
        result = result.model_copy(update={"invocation": inv})
    return result
