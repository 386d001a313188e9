"""Tools from entry points: the ``flowsleuth.tools`` group, built-ins included.

flowsleuth registers its own tools through this very group (see pyproject.toml), simonw/llm
style, so a listing shows every tool the agent can call and nothing is wired by hand. An entry
point may name either

* a **hook**: a module or object with ``register_tools(register)``, or a function named
  ``register_tools``; it is called with a ``register(fn, name=None, prerequisites=(), kind=...,
  timeout_s=None, batch=None)`` that records the distribution as the source; or
* a **tool function** ``(subject) -> ToolResult``, registered under the entry point's name.

flowsleuth's own entry points are always loaded (source "builtin"); other distributions' only
when plugins are enabled. A plugin that fails to import or to register is recorded in
``registry.conflicts`` and skipped: one broken plugin never hides the others.
"""

from __future__ import annotations

import inspect
from importlib.metadata import EntryPoint
from typing import Any

from flowsleuth.tools.registry.core import RegisteredTool, Registry
from flowsleuth.workflows.plugins import OWN_DISTRIBUTION, distribution, group_entry_points

GROUP = "flowsleuth.tools"
# What flowsleuth's own entry points name; registered directly only when an install predates them.
BUILTIN_HOOKS = ("flowsleuth.tools.registry.builtins", "flowsleuth.retrieval.knn")


def _source(ep: EntryPoint) -> str:
    dist = distribution(ep)
    return "builtin" if dist == OWN_DISTRIBUTION else f"entry_point:{dist}"


def register_object(registry: Registry, obj: Any, source: str, name: str | None = None) -> None:
    """Register a hook (``register_tools``) or a single tool function from ``source``."""
    hook = getattr(obj, "register_tools", None)
    if hook is None and inspect.isfunction(obj) and obj.__name__ == "register_tools":
        hook = obj
    if hook is not None:

        def register(fn: Any, name: str | None = None, **kwargs: Any) -> RegisteredTool:
            return registry.register(fn, name=name, source=source, **kwargs)

        hook(register)
    else:
        registry.register(obj, name=name, source=source)


def load_entry_points(registry: Registry, group: str = GROUP, plugins: bool = True) -> int:
    """Register flowsleuth's own entry points of ``group``, then (``plugins``) every other
    distribution's; returns how many entry points loaded."""
    own, others = group_entry_points(group, plugins=plugins)
    loaded = 0
    if group == GROUP and not own:
        import importlib

        registry.conflicts.append(
            "flowsleuth's own entry points are missing (reinstall it: pip install -e .); "
            "built-in tools registered directly"
        )
        for module in BUILTIN_HOOKS:
            register_object(registry, importlib.import_module(module), "builtin")
    for ep in [*own, *others]:
        source = _source(ep)
        try:
            register_object(registry, ep.load(), source, name=ep.name)
            loaded += 1
        except Exception as err:
            registry.conflicts.append(f"plugin {ep.name!r} ({source}) skipped: {type(err).__name__}: {err}")
    return loaded
