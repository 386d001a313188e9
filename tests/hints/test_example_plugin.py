"""The example plugin under examples/, registered through a fixture (never installed)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flowsleuth.tools.registry import Registry, default_registry, register_object
from flowsleuth.workflows.contract import Subject, ToolStatus
from flowsleuth.workflows.models import Run

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "examples" / "flowsleuth-example-plugin"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    plugin = importlib.import_module("flowsleuth_example_plugin")
    reg = default_registry(entry_points=False)
    register_object(reg, plugin, source="entry_point:flowsleuth-example-plugin")
    yield reg
    reg.unregister("long_queue")
    sys.modules.pop("flowsleuth_example_plugin", None)


def test_the_plugin_registers_with_its_source(registry: Registry) -> None:
    tool = registry.get("long_queue")
    assert tool.source == "entry_point:flowsleuth-example-plugin"
    assert tool.kind == "hint" and tool.status == "ready"
    assert tool.summary.endswith("?")


def test_the_plugin_tool_runs(registry: Registry, cpu_run: Run) -> None:
    results = registry.run_all(Subject(cpu_run, cpu_run.job_ids[3]))
    mine = next(r for r in results if r.tool == "long_queue")
    assert mine.status is ToolStatus.OK
    assert mine.data["queue_delay"] == cpu_run.frame.iloc[3]["queue_delay"]
    assert 0 <= mine.data["percentile"] <= 100


def test_the_plugin_declares_the_entry_point() -> None:
    text = (PLUGIN_DIR / "pyproject.toml").read_text()
    assert '[project.entry-points."flowsleuth.tools"]' in text
    readme = (PLUGIN_DIR / "README.md").read_text()
    assert "flowsleuth.tools" in readme and "register_tools(register)" in readme
