"""What every tool shares: the subject it looks at, and the structured result it returns.

A tool is a plain function ``(subject) -> ToolResult`` whose docstring is the description the
LLM reads. Numbers in ``data`` are the only numbers an explanation may quote.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import pandas as pd
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.context import host_context, run_context
from flowsleuth.workflows.dag import Dag
from flowsleuth.workflows.models import Job, Run
from pydantic import BaseModel, Field


class ToolStatus(StrEnum):
    OK = "ok"
    NO_DATA = "no_data"
    ERROR = "error"


Topic = Literal[
    "peers", "host", "baseline", "signature", "dag", "classifier", "neighbours", "diagnosis", "other"
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


@dataclass
class Subject:
    """What a tool looks at: one run, optionally one job of it, plus shared lazy caches.

    Build one per run and reuse it across tools and jobs: run context is computed once, and
    every :meth:`for_job` view shares that cache, whichever view computes it first.
    """

    run: Run
    job_id: str | None = None
    dag: Dag | None = None
    baseline: BaselineProfile | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    @property
    def context(self) -> pd.DataFrame:
        """Per-job run context (see :mod:`workflows.context`), label-free."""
        if "context" not in self._cache:
            self._cache["context"] = run_context(self.run)
        return self._cache["context"]

    @property
    def hosts(self) -> pd.DataFrame:
        """Per-host context of the run (see :func:`workflows.context.host_context`)."""
        if "hosts" not in self._cache:
            self._cache["hosts"] = host_context(self.run.frame)
        return self._cache["hosts"]

    @property
    def job(self) -> Job:
        if self.job_id is None:
            raise ValueError("this subject is a whole run, not a job")
        return self.run.job(self.job_id)

    def for_job(self, job_id: str) -> Subject:
        """The same run (and caches) focused on another job."""
        return Subject(self.run, job_id, self.dag, self.baseline, self.extras, self._cache)


ToolFn = Callable[[Subject], ToolResult]
