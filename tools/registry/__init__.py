"""The plugin seam: every tool the agent may call, where it came from, and how to run it.

Public API::

    from flowsleuth.tools.registry import Registry, RegisteredTool, default_registry

    reg = default_registry()            # the ``flowsleuth.tools`` entry points, built-ins included
    reg.register(fn_or_tool, name=None, source="api", prerequisites=(), kind="hint", batch=None)
    reg.unregister(name)                # -> the RegisteredTool removed
    reg.tools(kinds=None)               # -> list[RegisteredTool], registration order
    reg.get(name)                       # -> RegisteredTool (ToolError when unknown)
    reg.run(name, subject, timeout_s=None)      # -> ToolResult, never raises for a tool's fault
    reg.run_all(subject, kinds=("hint",))       # -> list[ToolResult], tools run in parallel
    reg.run_batch(subject, kinds=("score",))    # -> {tool: RunResults}: every job of the run

* A tool is ``(subject: Subject) -> ToolResult``; its docstring is what the LLM reads. Each
  registered tool has a ``kind``: "hint", "score", "retrieval" or "diagnosis". A tool may add
  a whole-run form ``batch=(subject) -> RunResults`` so scoring a run costs one call.
* Sources: "builtin", "api" (``register``), "entry_point:<distribution>" (plugins).
* Collisions are visible: the newcomer becomes ``<source>.<name>`` and ``reg.conflicts`` says so.
* Prerequisites (:mod:`tools.registry.prerequisites`: FileExists, ModelArtifact, ReachableUrl,
  EnvVar) are checked cheaply; ``tool.status`` is "ready" or "unavailable: <why>", and running an
  unavailable tool gives an ``error`` result.
* Reliability: a tool that raises, returns garbage or hangs (per-call, thread-based timeout)
  becomes an ``error`` result; the other tools still run.
* ``default_registry(entry_points=False)`` (the CLI: ``FLOWSLEUTH_NO_PLUGINS=1``) skips third-party
  plugins; flowsleuth's own entry points (the built-ins) always load.
"""

from __future__ import annotations

from flowsleuth.tools.registry.core import KINDS, RegisteredTool, Registry, ToolError
from flowsleuth.tools.registry.entry_points import GROUP, load_entry_points, register_object
from flowsleuth.tools.registry.prerequisites import (
    EnvVar,
    FileExists,
    ModelArtifact,
    Prerequisite,
    ReachableUrl,
)


def default_registry(entry_points: bool = True, timeout_s: float | None = None) -> Registry:
    """Built-in tools plus installed plugins (unless ``entry_points`` is False), all through
    the ``flowsleuth.tools`` group."""
    registry = Registry() if timeout_s is None else Registry(default_timeout_s=timeout_s)
    load_entry_points(registry, plugins=entry_points)
    return registry


__all__ = [
    "GROUP",
    "KINDS",
    "EnvVar",
    "FileExists",
    "ModelArtifact",
    "Prerequisite",
    "ReachableUrl",
    "RegisteredTool",
    "Registry",
    "ToolError",
    "default_registry",
    "load_entry_points",
    "register_object",
]
