"""A hanging LLM server: one deadline per explanation, and after the first timeout the LLM is
not called again in that command (with a note); the verdicts come from the tools."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flowsleuth.agent.llm.errors import LLMError
from flowsleuth.agent.llm.fake import FakeBackend
from flowsleuth.agent.triage_models import TriageRow
from flowsleuth.agent.verdict import Narrative
from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from langchain_core.messages import HumanMessage
from typer.testing import CliRunner


class _Hanging:
    """A TCP server that accepts every connection and never answers; counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self._held:
            c.close()


@pytest.fixture
def hanging() -> Iterator[_Hanging]:
    server = _Hanging()
    yield server
    server.close()


def test_triage_against_a_hanging_server_waits_once(env, hanging: _Hanging, monkeypatch) -> None:
    monkeypatch.setenv("FLOWSLEUTH_LLM_TIMEOUT_S", "2")
    args = ["triage", str(sample_run("1000-genome-run0084")), "-f", "jsonl", "--threshold", "0"]
    args += ["--explain", "4", "--backend", "openai", "--base-url", f"http://127.0.0.1:{hanging.port}/v1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [TriageRow.model_validate_json(line) for line in result.stdout.splitlines()]
    explained = [r for r in rows if r.explanation]
    assert len(explained) == 4  # all four explained, from the tool evidence
    assert "no answer within the 2 s deadline" in result.stderr.replace("\n", " ")
    assert "not called again in this command" in result.stderr.replace("\n", " ")
    # One attempt, perhaps its retry; never per job (before: 4 explanations x 2 attempts, plus
    # re-narrations). Counted, not timed: the command's own time swings with the box's load.
    assert hanging.connections <= 2


def test_guard_deadline_is_per_explanation_not_per_call() -> None:
    from flowsleuth.agent.llm.breaker import GuardedLLM

    class Slow(FakeBackend):
        def narrate(self, prompt_messages, schema):  # type: ignore[no-untyped-def]
            time.sleep(0.4)
            return schema.model_construct()

    guard = GuardedLLM(Slow(), deadline_s=0.6)
    guard.begin()
    guard.narrate([HumanMessage("x")], Narrative)  # 0.4 s of the 0.6 s
    with pytest.raises(LLMError, match="deadline for one explanation"):
        guard.narrate([HumanMessage("x")], Narrative)  # a re-narration shares the deadline
    assert guard.tripped and len(guard.notes) == 1
    start = time.monotonic()
    guard.begin()
    with pytest.raises(LLMError, match="not called"):
        guard.narrate([HumanMessage("x")], Narrative)
    assert time.monotonic() - start < 0.1


def test_other_llm_errors_do_not_trip_the_breaker(tmp_path: Path) -> None:
    from flowsleuth.agent.llm.breaker import GuardedLLM

    class Junk(FakeBackend):
        def narrate(self, prompt_messages, schema):  # type: ignore[no-untyped-def]
            raise LLMError("fake", "reply does not match Narrative")

    guard = GuardedLLM(Junk(), deadline_s=5)
    for _ in range(2):
        with pytest.raises(LLMError, match="does not match"):
            guard.narrate([HumanMessage("x")], Narrative)
    assert not guard.tripped


@pytest.mark.parametrize("joins", [True, False])
def test_a_narration_abandoned_at_its_deadline_finishes_before_the_process_exits(
    tmp_path: Path, joins: bool
) -> None:
    """An abandoned narration thread still inside torch's C++ code at interpreter exit aborts
    the process (exit 134, as `flowsleuth demo` did under load): exit waits for it, bounded.
    A backend that only waits on a socket (openai) is not waited for: a hanging server would
    otherwise hold the command's exit for the client's timeout and retries."""
    import subprocess
    import sys

    done = tmp_path / "finished"
    script = f"""
import time
from pathlib import Path
from langchain_core.messages import HumanMessage
from flowsleuth.agent.llm.breaker import GuardedLLM
from flowsleuth.agent.llm.errors import LLMError
from flowsleuth.agent.verdict import Narrative
from tests_fake import FakeBackend

class Slow(FakeBackend):
    joins_at_exit = {joins}

    def narrate(self, prompt_messages, schema):
        time.sleep(1.5)
        Path({str(done)!r}).write_text("yes")
        return schema.model_construct()

guard = GuardedLLM(Slow(), deadline_s=0.2)
try:
    guard.narrate([HumanMessage("x")], Narrative)
except LLMError:
    print("abandoned")
"""
    (tmp_path / "tests_fake.py").write_text(
        "from flowsleuth.agent.llm.base import LLMBackend\n"
        "class FakeBackend(LLMBackend):\n"
        "    name = 'fake'\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "    @property\n"
        "    def chat_model(self):\n"
        "        raise NotImplementedError\n"
        "    def narrate(self, prompt_messages, schema):\n"
        "        raise NotImplementedError\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "abandoned" in out.stdout  # the caller got its error at the deadline...
    assert done.exists() is joins  # ...and the thread finished before the process exited, or not


def test_the_tool_loop_shares_the_deadline_and_trips_the_breaker() -> None:
    """The agentic tool loop's turn is held to the explanation's deadline too; before, it went
    to the chat model directly and a hanging server cost the client's timeout and retries."""
    from flowsleuth.agent.llm.breaker import GuardedLLM

    class HangsOnTools(FakeBackend):
        def call_tools(self, messages, tools):  # type: ignore[no-untyped-def]
            time.sleep(2)
            raise AssertionError("never reached within the deadline")

    guard = GuardedLLM(HangsOnTools(), deadline_s=0.3)
    guard.begin()
    start = time.monotonic()
    with pytest.raises(LLMError, match="deadline for one explanation"):
        guard.call_tools([HumanMessage("x")], [])
    assert time.monotonic() - start < 1.5 and guard.tripped
    with pytest.raises(LLMError, match="not called"):
        guard.narrate([HumanMessage("x")], Narrative)
