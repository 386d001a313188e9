"""The registry: every tool the agent may call, where it came from, and how to run it."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flowsleuth.tools.registry.isolation import is_plugin, isolated
from flowsleuth.tools.registry.prerequisites import Prerequisite, unmet
from flowsleuth.tools.registry.runner import DEFAULT_TIMEOUT_S, call_tool
from flowsleuth.workflows.contract import Subject, ToolFn, ToolResult
from flowsleuth.workflows.errors import FlowsleuthError

KINDS: tuple[str, ...] = ("hint", "score", "retrieval", "diagnosis")


class ToolError(FlowsleuthError):
    """A tool that cannot be registered or found."""


@dataclass(frozen=True)
class RegisteredTool:
    """One tool: its function, its name for the LLM, and where it came from."""

    name: str
    fn: ToolFn
    source: str  # "builtin", "api", or "entry_point:<distribution>"
    kind: str = "hint"
    prerequisites: tuple[Prerequisite, ...] = ()
    timeout_s: float | None = None  # None: the registry's default
    requested_name: str = ""  # the name asked for, when a collision renamed it

    @property
    def description(self) -> str:
        """The docstring: what the LLM reads."""
        return inspect.cleandoc(self.fn.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.description.splitlines()[0] if self.description else "(no description)"

    def unmet(self) -> list[str]:
        return unmet(self.prerequisites)

    @property
    def status(self) -> str:
        reasons = self.unmet()
        return "ready" if not reasons else "unavailable: " + "; ".join(reasons)


@dataclass
class Registry:
    """Tools by name. A name collision never silently replaces a tool: the newcomer is
    registered as ``<source>.<name>`` and the collision is recorded in :attr:`conflicts`
    (``replace=True`` replaces on purpose)."""

    default_timeout_s: float = DEFAULT_TIMEOUT_S
    _tools: dict[str, RegisteredTool] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)

    def register(
        self,
        fn_or_tool: ToolFn | RegisteredTool,
        name: str | None = None,
        source: str = "api",
        prerequisites: Iterable[Prerequisite] = (),
        *,
        kind: str = "hint",
        timeout_s: float | None = None,
        replace: bool = False,
    ) -> RegisteredTool:
        """Add a tool; returns it as registered (its name may differ after a collision)."""
        if isinstance(fn_or_tool, RegisteredTool):
            tool = fn_or_tool
            if name is not None:
                tool = _replace(tool, name=name)
        else:
            if not callable(fn_or_tool):
                raise ToolError(f"cannot register {fn_or_tool!r}: not callable")
            tool_name = str(name or getattr(fn_or_tool, "__name__", ""))
            tool = RegisteredTool(tool_name, fn_or_tool, source, kind, tuple(prerequisites), timeout_s)
        if not tool.name or not tool.name.replace("_", "").replace(".", "").isalnum():
            raise ToolError(f"invalid tool name {tool.name!r}: use letters, digits, _ and .")
        if tool.kind not in KINDS:
            raise ToolError(f"tool {tool.name!r}: unknown kind {tool.kind!r} (one of {', '.join(KINDS)})")
        if tool.name in self._tools and not replace:
            old = self._tools[tool.name]
            qualified = f"{tool.source.split(':')[-1]}.{tool.name}"
            self.conflicts.append(
                f"{tool.name!r} from {tool.source} collides with {old.source}; registered as {qualified!r}"
            )
            if qualified in self._tools:
                raise ToolError(f"tool {tool.name!r} from {tool.source} is already registered")
            tool = _replace(tool, name=qualified, requested_name=tool.name)
        self._tools[tool.name] = tool
        return tool

    def unregister(self, name: str) -> RegisteredTool:
        try:
            return self._tools.pop(name)
        except KeyError:
            raise ToolError(f"no tool {name!r} is registered") from None

    def tools(self, kinds: Iterable[str] | None = None) -> list[RegisteredTool]:
        """Registered tools in registration order, optionally of some kinds only."""
        wanted = None if kinds is None else set(kinds)
        return [t for t in self._tools.values() if wanted is None or t.kind in wanted]

    def get(self, name: str) -> RegisteredTool:
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(self._tools) or "none"
            raise ToolError(f"no tool {name!r} (registered: {known})")
        return tool

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def run(self, name: str, subject: Subject, timeout_s: float | None = None) -> ToolResult:
        """Run one tool. Never raises for a tool's own failure: that is an ``error`` result."""
        tool = self.get(name)
        reasons = tool.unmet()
        if reasons:
            return ToolResult.failed(name, "prerequisite not met: " + "; ".join(reasons))
        limit = timeout_s if timeout_s is not None else (tool.timeout_s or self.default_timeout_s)
        if not is_plugin(tool.source):
            return call_tool(name, tool.fn, subject, limit)
        # A plugin asks for at most the configured timeout, and works on its own copy.
        limit = min(limit, self.default_timeout_s)
        return call_tool(name, tool.fn, isolated(subject), limit, plugin=True)

    def run_all(
        self, subject: Subject, kinds: Iterable[str] = ("hint",), timeout_s: float | None = None
    ) -> list[ToolResult]:
        """Run every tool of these kinds on the subject, in order; failures are results too.

        Looping over a run's jobs? Build one ``Subject(run)``, touch ``.context`` and ``.hosts``
        once, then pass ``subject.for_job(id)``: ``for_job`` shares only caches already computed.
        """
        # Warm the shared run caches once, so per-tool threads do not each compute them.
        with contextlib.suppress(Exception):  # each tool then reports its own failure
            _ = subject.context, subject.hosts
        return [self.run(t.name, subject, timeout_s) for t in self.tools(kinds)]


def _replace(tool: RegisteredTool, **changes: Any) -> RegisteredTool:
    return dataclasses.replace(tool, **changes)


RegisterFn = Callable[..., RegisteredTool]
