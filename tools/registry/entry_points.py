"""Tools from installed plugins: the ``flowsleuth.tools`` entry point group.

An entry point may name either

* a **hook**: a module or object with ``register_tools(register)``, or a function named
  ``register_tools``; it is called with a ``register(fn, name=None, prerequisites=(), kind=...)``
  that records the plugin's distribution as the source (simonw/llm style); or
* a **tool function** ``(subject) -> ToolResult``, registered under the entry point's name.

A plugin that fails to import or to register is recorded in ``registry.conflicts`` and skipped:
one broken plugin never hides the others.
"""

from __future__ import annotations

import inspect
import os
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from flowsleuth.tools.registry.core import RegisteredTool, Registry

GROUP = "flowsleuth.tools"
DISABLE_ENV = "FLOWSLEUTH_NO_PLUGINS"  # set to 1 to skip entry points (the test suite does)


def plugins_disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() in ("1", "true", "yes")


def _source(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"entry_point:{dist.name if dist is not None else ep.name}"


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


def load_entry_points(registry: Registry, group: str = GROUP) -> int:
    """Register every plugin of ``group``; returns how many entry points loaded."""
    loaded = 0
    for ep in entry_points(group=group):
        source = _source(ep)
        try:
            register_object(registry, ep.load(), source, name=ep.name)
            loaded += 1
        except Exception as err:
            registry.conflicts.append(f"plugin {ep.name!r} ({source}) skipped: {type(err).__name__}: {err}")
    return loaded
