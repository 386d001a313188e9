"""The contract at the bottom of flowsleuth: what a tool looks at and what it returns.

A tool is a plain function ``(subject) -> ToolResult`` whose docstring is the description the
LLM reads. Numbers in ``data`` are the only numbers an explanation may quote. A tool that can
score a whole run in one pass also offers ``(subject) -> RunResults`` (one result per job);
triage and ``why`` both use it, so they decide from the same results.

The services a tool may use (loaded models, the job index) come in :class:`Services`, a
read-only mapping keyed by typed :class:`ServiceKey` s that the layer owning each service
declares (e.g. ``retrieval.INDEX``): no layer here imports the layers above.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic, Literal, TypeVar, cast

import pandas as pd
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.context import context_of, host_context, run_context
from flowsleuth.workflows.dag import Dag
from flowsleuth.workflows.models import Job, Run
from pydantic import BaseModel, Field


class ToolStatus(StrEnum):
    OK = "ok"
    NO_DATA = "no_data"
    ERROR = "error"


Topic = Literal[
    "state",
    "peers",
    "host",
    "baseline",
    "signature",
    "dag",
    "classifier",
    "neighbours",
    "diagnosis",
    "other",
]
Direction = Literal["higher", "lower", "same", "anomalous", "normal"]


class Finding(BaseModel):
    """One short, checkable statement a tool measured, e.g. ``job runtime 1.95x peer median``.

    An explanation cites findings by id (``F1``, ``F2``, numbered by the agent in result order);
    the claim validator checks each cited sentence's numbers and direction against them."""

    id: str = Field(default="", description="F1, F2, ...: assigned by the agent, not the tool")
    tool: str = Field(default="", description="the tool that measured it (filled in by the result)")
    about: Topic = Field(description="what the finding is about, for sentences that cite none")
    text: str = Field(description="the statement, with its numbers as they may be quoted")
    numbers: list[float] = Field(default_factory=list, description="the numbers in ``text``")
    direction: Direction | None = Field(
        default=None,
        description="higher/lower/same than the reference (slower, above...), or the vote: "
        "anomalous/normal; None when the finding has no direction",
    )


class ToolResult(BaseModel):
    """Structured result of one tool call (holmesgpt-style: status, data, error, invocation)."""

    tool: str
    status: ToolStatus
    data: dict[str, Any] = Field(default_factory=dict, description="the numbers the tool measured")
    summary: str = Field(default="", description="one line a person can read")
    error: str | None = None
    invocation: dict[str, Any] = Field(default_factory=dict, description="what the tool was asked")
    findings: list[Finding] = Field(default_factory=list, description="what an explanation may cite")

    @classmethod
    def ok(
        cls,
        tool: str,
        data: dict[str, Any],
        summary: str,
        *,
        findings: Sequence[Finding] = (),
        **inv: Any,
    ) -> ToolResult:
        own = [f.model_copy(update={"tool": tool}) for f in findings]
        return cls(tool=tool, status=ToolStatus.OK, data=data, summary=summary, invocation=inv, findings=own)

    @classmethod
    def no_data(cls, tool: str, summary: str, data: dict[str, Any] | None = None, **inv: Any) -> ToolResult:
        return cls(tool=tool, status=ToolStatus.NO_DATA, data=data or {}, summary=summary, invocation=inv)

    @classmethod
    def failed(cls, tool: str, error: str, **inv: Any) -> ToolResult:
        return cls(
            tool=tool,
            status=ToolStatus.ERROR,
            error=error,
            summary=f"{tool} failed: {error}",
            invocation=inv,
        )

    def numbers(self) -> Iterator[tuple[str, float]]:
        """Every finite number in ``data``, with its dotted path (for evidence validation)."""
        yield from _walk_numbers(self.data, self.tool)


def _walk_numbers(value: Any, path: str) -> Iterator[tuple[str, float]]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if math.isfinite(value):
            yield path, float(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _walk_numbers(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _walk_numbers(v, f"{path}[{i}]")


T = TypeVar("T")


@dataclass(frozen=True)
class ServiceKey(Generic[T]):
    """The typed name of one service, declared by the layer that owns its type::

    INDEX: ServiceKey[JobIndex] = ServiceKey("index")
    """

    name: str


class Services:
    """Read-only services for tools: ``services.get(INDEX)`` is a ``JobIndex | None``.

    Built once per command by the composition root; a tool can read it but never write into
    it (a tool thread abandoned after a timeout included)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[ServiceKey[Any], object] | None = None) -> None:
        self._values: Mapping[ServiceKey[Any], object] = MappingProxyType(dict(values or {}))

    def get(self, key: ServiceKey[T]) -> T | None:
        return cast("T | None", self._values.get(key))

    def require(self, key: ServiceKey[T], what: str) -> T:
        """The service, or a :class:`LookupError` naming what is missing."""
        value = self.get(key)
        if value is None:
            raise LookupError(f"no {what} is configured")
        return value

    def with_(self, key: ServiceKey[T], value: T | None) -> Services:
        """A copy with ``key`` set (or removed, for None)."""
        values = {k: v for k, v in self._values.items() if k != key}
        if value is not None:
            values[key] = value
        return Services(values)

    def __repr__(self) -> str:
        return f"Services({', '.join(k.name for k in self._values)})"


@dataclass(frozen=True)
class RunFacts:
    """Label-free facts of a run that every tool may read, computed once before tools run."""

    context: pd.DataFrame
    hosts: pd.DataFrame

    @classmethod
    def of(cls, run: Run) -> RunFacts:
        parts = context_of(run.frame)
        return cls(parts.context, parts.hosts)


@dataclass(frozen=True)
class Subject:
    """What a tool looks at: one run, optionally one job of it, and read-only services.

    Frozen: a tool cannot change what other tools see. Call :meth:`warmed` once per run (the
    registry does) so :attr:`context` and :attr:`hosts` are computed once and shared by every
    :meth:`for_job` view; an unwarmed subject computes them on each access.
    """

    run: Run
    job_id: str | None = None
    dag: Dag | None = None
    baseline: BaselineProfile | None = None
    services: Services = field(default_factory=Services)
    facts: RunFacts | None = field(default=None, repr=False, compare=False)
    args: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    """What the LLM asked a tool for beyond the job (the tool's ``args_schema`` fields)."""

    def warmed(self) -> Subject:
        """This subject with its run facts computed (itself when they already are)."""
        if self.facts is not None:
            return self
        return replace(self, facts=RunFacts.of(self.run))

    @property
    def context(self) -> pd.DataFrame:
        """Per-job run context (see :mod:`workflows.context`), label-free."""
        return self.facts.context if self.facts is not None else run_context(self.run)

    @property
    def hosts(self) -> pd.DataFrame:
        """Per-host context of the run (see :func:`workflows.context.host_context`)."""
        return self.facts.hosts if self.facts is not None else host_context(self.run.frame)

    @property
    def job(self) -> Job:
        if self.job_id is None:
            raise ValueError("this subject is a whole run, not a job")
        return self.run.job(self.job_id)

    @property
    def focus_jobs(self) -> list[str]:
        """The jobs a whole-run tool form answers for: the focus job alone when the subject has
        one (``why``: a source that costs per job scores just it, with the run as context),
        else every job of the run (``triage``)."""
        return [self.job_id] if self.job_id is not None else self.run.job_ids

    def for_job(self, job_id: str | None, **args: object) -> Subject:
        """The same run, services and facts focused on another job (None: the whole run),
        with these tool arguments (none by default)."""
        return replace(self, job_id=job_id, args=MappingProxyType(dict(args)))


@dataclass(frozen=True)
class RunResults:
    """One tool's answer for a whole run: a result per job, and optionally one for the run."""

    jobs: Mapping[str, ToolResult]
    run: ToolResult | None = None


ToolFn = Callable[[Subject], ToolResult]
RunToolFn = Callable[[Subject], RunResults]
RunsToolFn = Callable[[Sequence[Subject]], Sequence[RunResults]]
"""A tool's many-runs form: each subject's :class:`RunResults`, in order, from one pass."""
