"""The OpenAI-compatible backend against no server and against a server that answers junk."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from flowsleuth.agent.llm import LLMError, LLMSettings, make_backend
from flowsleuth.agent.llm.openai_backend import OpenAIBackend
from flowsleuth.agent.verdict import Narrative
from langchain_core.messages import HumanMessage


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_settings_defaults_and_api_key_falls_back(monkeypatch):
    monkeypatch.delenv("FLOWSLEUTH_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    s = LLMSettings(backend="openai")
    assert s.base_url.endswith("/v1") and s.model == "smollm2"
    assert s.api_key() == "EMPTY"
    monkeypatch.setenv("OPENAI_API_KEY", "k2")
    assert s.api_key() == "k2"
    monkeypatch.setenv("FLOWSLEUTH_OPENAI_API_KEY", "k1")
    assert s.api_key() == "k1"


def test_make_backend_none_and_openai_name():
    assert make_backend(LLMSettings(backend="none")) is None
    backend = make_backend(LLMSettings(backend="openai", model="Qwen/Q"))
    assert isinstance(backend, OpenAIBackend)
    assert backend.name == "openai:Qwen/Q" and backend.supports_tools is False
    assert backend.compact is False  # a served model gets the full prompt unless told otherwise


def test_compact_setting_reaches_the_backend_and_the_cli(monkeypatch, tmp_path):
    from flowsleuth.cli.app.settings import load_settings
    from flowsleuth.cli.app.toolkit import llm_settings

    monkeypatch.setenv("FLOWSLEUTH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("FLOWSLEUTH_LLM_COMPACT", "1")
    settings = llm_settings(load_settings(backend="openai"))
    backend = make_backend(settings)
    assert settings.compact and backend is not None and backend.compact is True


def test_unreachable_server_fails_fast_with_llm_error():
    port = _free_port()  # nothing listens there
    settings = LLMSettings(
        backend="openai", base_url=f"http://127.0.0.1:{port}/v1", timeout_s=2, max_retries=1
    )
    backend = make_backend(settings)
    assert backend is not None
    start = time.perf_counter()
    with pytest.raises(LLMError, match="cannot reach") as info:
        backend.narrate([HumanMessage("hi")], Narrative)
    assert time.perf_counter() - start < 10
    assert "openai:smollm2" in str(info.value)


class _JunkHandler(BaseHTTPRequestHandler):
    body: ClassVar[dict[str, object]] = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "smollm2",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "I think it is fine!!"},
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        data = json.dumps(self.body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _NoChoicesHandler(_JunkHandler):
    body: ClassVar[dict[str, object]] = {**_JunkHandler.body, "choices": []}


@contextlib.contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def junk_server() -> Iterator[str]:
    with _serve(_JunkHandler) as url:
        yield url


def test_junk_reply_raises_llm_error(junk_server):
    backend = make_backend(LLMSettings(backend="openai", base_url=junk_server, timeout_s=5))
    assert backend is not None
    with pytest.raises(LLMError, match="does not match Narrative"):
        backend.narrate([HumanMessage("hi")], Narrative)


def test_a_reply_that_is_no_chat_completion_says_so():
    with _serve(_NoChoicesHandler) as url:
        backend = make_backend(LLMSettings(backend="openai", base_url=url, timeout_s=5))
        assert backend is not None
        with pytest.raises(LLMError, match="is not an OpenAI chat completion"):
            backend.narrate([HumanMessage("hi")], Narrative)
