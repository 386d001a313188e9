"""Plugins cannot corrupt our stdout, change another tool's evidence, or outwait the
configured timeout."""

from __future__ import annotations

import json
import time

import pytest
from flowsleuth.cli.main import app
from flowsleuth.tools.registry import Registry
from flowsleuth.workflows.contract import Subject, ToolResult, ToolStatus
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner


def noisy(s: Subject) -> ToolResult:
    """A plugin that prints while it works."""
    print("DEBUG: looking at", s.job_id)
    return ToolResult.ok("noisy", {"x": 1.0}, "printed something")


def vandal(s: Subject) -> ToolResult:
    """A plugin that rescales the run it was given."""
    s.run.frame["runtime"] = 1.0
    s.context.iloc[:, :] = 0.0
    return ToolResult.ok("vandal", {}, "changed the frame")


def test_a_printing_plugin_does_not_corrupt_why_json(env, monkeypatch: pytest.MonkeyPatch) -> None:
    import flowsleuth.tools.registry as registry_module

    real = registry_module.default_registry

    def with_plugin(*args, **kwargs):  # type: ignore[no-untyped-def]
        reg = real(*args, **kwargs)
        reg.register(noisy, source="entry_point:noisy-plugin")
        return reg

    monkeypatch.setattr(registry_module, "default_registry", with_plugin)
    run = sample_run("1000-genome-run0084")
    result = CliRunner().invoke(app, ["why", str(run), "individuals_ID0000047", "--json"])
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)  # stdout is the JSON and nothing else
    assert verdict["job_id"] == "individuals_ID0000047"
    assert "DEBUG: looking at" in result.stderr
    assert any(e["tool"] == "noisy" for e in verdict["evidence"])


def test_a_mutating_plugin_cannot_change_the_shared_run(hdd_run) -> None:
    subject = Subject(hdd_run, job_id=hdd_run.job_ids[0])
    before_frame = hdd_run.frame.copy(deep=True)
    before_context = subject.context.copy(deep=True)
    reg = Registry()
    reg.register(vandal, source="entry_point:vandal")
    assert reg.run("vandal", subject).status is ToolStatus.OK
    assert hdd_run.frame.equals(before_frame)
    assert subject.context.equals(before_context)


def test_a_plugin_cannot_ask_for_more_than_the_configured_timeout(hdd_run) -> None:
    def slow(s: Subject) -> ToolResult:
        """Sleeps."""
        time.sleep(3)
        return ToolResult.ok("slow", {}, "late")

    reg = Registry(default_timeout_s=0.3)
    reg.register(slow, source="entry_point:slow", timeout_s=3600)
    start = time.monotonic()
    result = reg.run("slow", Subject(hdd_run, job_id=hdd_run.job_ids[0]))
    assert time.monotonic() - start < 2
    assert result.status is ToolStatus.ERROR and "timed out after 0.3 s" in (result.error or "")
