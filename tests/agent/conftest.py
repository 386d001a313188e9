"""Fakes for graph tests: scripted tools in a real registry, no network, no models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from flowsleuth.tools.registry import Registry
from flowsleuth.workflows.contract import Subject, ToolResult


@dataclass
class RecordingRegistry(Registry):
    """The real registry, recording every tool call as (tool, job id)."""

    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def add(self, name: str, kind: str, fn: Callable[[Subject], ToolResult]) -> None:
        def recorded(subject: Subject) -> ToolResult:
            self.calls.append((name, subject.job_id))
            return fn(subject)

        recorded.__doc__ = fn.__doc__ or "a fake tool"
        self.register(recorded, name=name, kind=kind, source="test")


def runtime_ratio_score(subject: Subject) -> ToolResult:
    """A deterministic scorer: P(anomalous) grows with the job's runtime ratio in its run."""
    ratio = float(subject.context.loc[subject.job_id, "runtime_ratio"])
    score = max(0.0, min(1.0, (ratio - 1.0) / 2.0 + 0.2))
    return ToolResult.ok(
        "ratio_score",
        {
            "score": round(score, 4),
            "runtime_ratio": round(ratio, 3),
            "class_probs": {"None": 1 - score, "hdd_5": score},
        },
        f"runtime ratio {ratio:.3f}",
    )


def host_hint(subject: Subject) -> ToolResult:
    host = subject.job.host
    row = subject.hosts.loc[host]
    return ToolResult.ok(
        "host_hint",
        {
            "host_runtime_vs_peers": round(float(row["host_runtime_vs_peers"]), 3),
            "n_jobs": int(row["n_jobs"]),
        },
        f"host {host} runtime is {float(row['host_runtime_vs_peers']):.3f}x its peers",
    )


@pytest.fixture
def registry() -> RecordingRegistry:
    reg = RecordingRegistry()
    reg.add("ratio_score", "score", runtime_ratio_score)
    reg.add("host_hint", "hint", host_hint)
    return reg
