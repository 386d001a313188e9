"""The plugin seam: registration, collisions, prerequisites, entry points, and unruly tools."""

from __future__ import annotations

import threading
import types
from pathlib import Path
from typing import Any

import pytest
from flowsleuth.tools.registry import (
    FileExists,
    ModelArtifact,
    ReachableUrl,
    RegisteredTool,
    Registry,
    ToolError,
    default_registry,
)
from flowsleuth.workflows import plugins as plugins_module
from flowsleuth.workflows.contract import Subject, ToolResult, ToolStatus
from flowsleuth.workflows.models import Run

BUILTINS = {"host_peers", "transformation_baseline", "resource_signature", "dag_neighbours"}


def good(subject: Subject) -> ToolResult:
    """A well-behaved tool?"""
    return ToolResult.ok("good", {"x": 1.0}, "fine")


def raises(subject: Subject) -> ToolResult:
    """A tool that raises?"""
    raise RuntimeError("boom")


def garbage(subject: Subject) -> ToolResult:
    """A tool that returns garbage?"""
    return 42  # type: ignore[return-value]


@pytest.fixture
def subject(cpu_run: Run, culprit_id: str) -> Subject:
    return Subject(cpu_run, culprit_id)


def test_default_registry_has_the_builtins_with_their_source() -> None:
    reg = default_registry(entry_points=False)
    tools = {t.name: t for t in reg.tools()}
    assert set(tools) >= BUILTINS
    assert all(tools[n].source == "builtin" and tools[n].kind == "hint" for n in BUILTINS)
    assert tools["run_diagnosis"].kind == "diagnosis"
    assert {t.name for t in reg.tools(["hint"])} == BUILTINS
    assert all(t.status == "ready" and t.summary for t in reg.tools())


def test_register_get_unregister() -> None:
    reg = Registry()
    tool = reg.register(good, kind="score")
    assert (tool.name, tool.source, tool.kind) == ("good", "api", "score")
    assert reg.get("good") is tool and "good" in reg
    assert reg.unregister("good") is tool
    with pytest.raises(ToolError, match="no tool 'good'"):
        reg.get("good")
    with pytest.raises(ToolError):
        reg.register(good, kind="nonsense")


def test_a_collision_is_visible_and_replaces_nothing() -> None:
    reg = default_registry(entry_points=False)
    clash = reg.register(good, name="host_peers", source="entry_point:acme")
    assert clash.name == "acme.host_peers" and clash.requested_name == "host_peers"
    assert reg.get("host_peers").source == "builtin"
    assert any("collides" in c for c in reg.conflicts)
    replaced = reg.register(good, name="host_peers", replace=True)
    assert reg.get("host_peers") is replaced


def test_raising_and_garbage_tools_become_errors(subject: Subject) -> None:
    reg = Registry()
    reg.register(raises)
    reg.register(garbage)
    reg.register(lambda s: {"status": "ok", "data": {"y": 2.0}}, name="as_dict")
    boom, junk, as_dict = reg.run_all(subject)
    assert boom.status is ToolStatus.ERROR and "RuntimeError: boom" in (boom.error or "")
    assert junk.status is ToolStatus.ERROR and "int" in (junk.error or "")
    assert as_dict.status is ToolStatus.OK and as_dict.tool == "as_dict"


def test_a_hanging_tool_is_cut_and_the_rest_still_runs(subject: Subject) -> None:
    release = threading.Event()

    def hangs(s: Subject) -> ToolResult:
        """A tool that hangs?"""
        release.wait(30)
        return ToolResult.ok("hangs", {}, "late")

    reg = Registry(default_timeout_s=0.2)
    reg.register(hangs)
    reg.register(good)
    try:
        late, ok = reg.run_all(subject)
    finally:
        release.set()
    assert late.status is ToolStatus.ERROR and "timed out" in (late.error or "")
    assert ok.status is ToolStatus.OK


def test_unmet_prerequisites_are_listed_and_block_the_run(tmp_path: Path, subject: Subject) -> None:
    reg = Registry()
    reg.register(good, prerequisites=[FileExists(tmp_path / "nope.bin")])
    tool = reg.get("good")
    assert tool.status.startswith("unavailable") and "nope.bin" in tool.status
    assert reg.run("good", subject).status is ToolStatus.ERROR
    (tmp_path / "nope.bin").write_bytes(b"x")
    assert tool.status == "ready"
    assert ModelArtifact(tmp_path / "missing").check() is not None
    assert ModelArtifact(tmp_path).check() is None
    assert ReachableUrl("http://127.0.0.1:9", timeout_s=0.2).check() is not None


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, objects: dict[str, Any]) -> None:
    class FakeEP:
        def __init__(self, name: str, obj: Any) -> None:
            self.name, self.obj = name, obj
            self.dist = types.SimpleNamespace(name=f"{name}-dist")

        def load(self) -> Any:
            if isinstance(self.obj, Exception):
                raise self.obj
            return self.obj

    monkeypatch.setattr(
        plugins_module, "entry_points", lambda group: [FakeEP(n, o) for n, o in objects.items()]
    )


def test_entry_points_load_unless_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = types.SimpleNamespace(register_tools=lambda register: register(good, name="hooked"))
    _fake_entry_points(monkeypatch, {"plain": good, "hook": hook, "broken": ImportError("no")})
    reg = default_registry(entry_points=True)
    assert reg.get("plain").source == "entry_point:plain-dist"
    assert reg.get("hooked").source == "entry_point:hook-dist"
    assert any("broken" in c and "skipped" in c for c in reg.conflicts)
    assert "plain" not in default_registry(entry_points=False)


def test_registered_tool_description_is_the_docstring() -> None:
    tool = RegisteredTool("good", good, "api")
    assert tool.description == "A well-behaved tool?" == tool.summary
