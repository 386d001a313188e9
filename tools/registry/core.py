"""The registry: every tool the agent may call, where it came from, and how to run it."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowsleuth.tools.registry.isolation import is_plugin, isolated
from flowsleuth.tools.registry.prerequisites import Prerequisite, unmet
from flowsleuth.tools.registry.runner import (
    DEFAULT_BATCH_TIMEOUT_S,
    DEFAULT_TIMEOUT_S,
    Call,
    call_batch,
    call_tool,
)
from flowsleuth.workflows.contract import RunResults, RunsToolFn, RunToolFn, Subject, ToolFn, ToolResult
from flowsleuth.workflows.errors import FlowsleuthError
from pydantic import BaseModel

KINDS: tuple[str, ...] = ("hint", "score", "retrieval", "diagnosis", "state")


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
    batch: RunToolFn | None = None  # the whole-run form: every job's result in one pass
    args_schema: type[BaseModel] | None = None  # what the LLM may pass besides job_id
    many: RunsToolFn | None = None  # the many-runs form: a batch of small runs in one pass

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
    batch_timeout_s: float = DEFAULT_BATCH_TIMEOUT_S
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
        batch: RunToolFn | None = None,
        args_schema: type[BaseModel] | None = None,
        many: RunsToolFn | None = None,
        replace: bool = False,
    ) -> RegisteredTool:
        """Add a tool; returns it as registered (its name may differ after a collision).

        ``batch``: the tool's whole-run form ``(subject) -> RunResults``; without it, scoring a
        run calls ``fn`` once per job. ``args_schema``: a pydantic model of what the LLM may
        ask the tool for (an optional ``job_id`` field, plus any other, read from
        ``subject.args``). ``many``: the many-runs form ``(subjects) -> [RunResults]``, for a
        batch of small runs (see :meth:`run_batches`)."""
        if isinstance(fn_or_tool, RegisteredTool):
            tool = fn_or_tool
            if name is not None:
                tool = _replace(tool, name=name)
        else:
            if not callable(fn_or_tool):
                raise ToolError(f"cannot register {fn_or_tool!r}: not callable")
            tool_name = str(name or getattr(fn_or_tool, "__name__", ""))
            for form, what in ((batch, "batch"), (many, "many-runs")):
                if form is not None and not callable(form):
                    raise ToolError(f"cannot register {tool_name!r}: its {what} form is not callable")
            tool = RegisteredTool(
                tool_name,
                fn_or_tool,
                source,
                kind,
                tuple(prerequisites),
                timeout_s,
                batch=batch,
                args_schema=args_schema,
                many=many,
            )
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

    def _limit(self, tool: RegisteredTool, timeout_s: float | None) -> float:
        return timeout_s if timeout_s is not None else (tool.timeout_s or self.default_timeout_s)

    def _call(self, tool: RegisteredTool, subject: Subject, timeout_s: float | None) -> Call[ToolResult]:
        reasons = tool.unmet()
        if reasons:
            failed = ToolResult.failed(tool.name, "prerequisite not met: " + "; ".join(reasons))
            return Call.done(failed)
        limit = self._limit(tool, timeout_s)
        if not is_plugin(tool.source):
            return call_tool(tool.name, tool.fn, subject, limit)
        # A plugin asks for at most the configured timeout, and works on its own copy.
        limit = min(limit, self.default_timeout_s)
        return call_tool(tool.name, tool.fn, isolated(subject), limit, plugin=True)

    def run(self, name: str, subject: Subject, timeout_s: float | None = None) -> ToolResult:
        """Run one tool. Never raises for a tool's own failure: that is an ``error`` result."""
        return self._call(self.get(name), subject.warmed(), timeout_s).result()

    def run_all(
        self, subject: Subject, kinds: Iterable[str] = ("hint",), timeout_s: float | None = None
    ) -> list[ToolResult]:
        """Run every tool of these kinds on the subject, in parallel; failures are results too.

        Results come in registration order. The subject is warmed once (run context and host
        context computed before any tool runs), so tools only read it.
        """
        subject = subject.warmed()
        calls = [self._call(t, subject, timeout_s) for t in self.tools(kinds)]
        return [c.result() for c in calls]  # every call started before the first is awaited

    def run_batch(self, subject: Subject, kinds: Iterable[str]) -> dict[str, RunResults]:
        """Every tool of these kinds on every job of the subject's run (on its focus job alone,
        when the subject has one; see :attr:`Subject.focus_jobs`): tool name -> results.

        A tool with a whole-run form runs it once (limit: the registry's ``batch_timeout_s``);
        one without is called per job (its own limit per call). Tools run in parallel; a tool
        that fails or times out gives every job an ``error`` result, and the others go on.
        """
        subject = subject.for_job(subject.job_id).warmed()
        tools = self.tools(kinds)
        calls = [self._batch_call(t, subject) for t in tools]
        return {t.name: c.result() for t, c in zip(tools, calls, strict=True)}

    def run_batches(self, subjects: Sequence[Subject], kinds: Iterable[str]) -> list[dict[str, RunResults]]:
        """:meth:`run_batch` on each subject (small runs, batched): what it gives each, with a
        built-in tool's many-runs form run once for them all (see :mod:`.batches`)."""
        from flowsleuth.tools.registry.batches import run_batches

        return run_batches(self, subjects, self.tools(kinds))

    def _batch_call(self, tool: RegisteredTool, subject: Subject) -> Call[RunResults]:
        job_ids = subject.focus_jobs
        reasons = tool.unmet()
        if reasons:
            failed = ToolResult.failed(tool.name, "prerequisite not met: " + "; ".join(reasons))
            return Call.done(RunResults(dict.fromkeys(job_ids, failed), failed))
        if tool.batch is not None:
            if not is_plugin(tool.source):
                return call_batch(tool.name, tool.batch, subject, self.batch_timeout_s)
            return call_batch(tool.name, tool.batch, isolated(subject), self.batch_timeout_s, plugin=True)

        def per_job(s: Subject) -> RunResults:
            # One job at a time: a thread per job of a large run would only contend.
            return RunResults({j: self._call(tool, s.for_job(j), None).result() for j in job_ids})

        return call_batch(tool.name, per_job, subject, None)


def _replace(tool: RegisteredTool, **changes: Any) -> RegisteredTool:
    return dataclasses.replace(tool, **changes)


RegisterFn = Callable[..., RegisteredTool]
