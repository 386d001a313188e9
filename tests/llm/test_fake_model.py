"""The scripted fake chat model: tool calls, structured output, errors, call recording."""

from __future__ import annotations

import pytest
from flowsleuth.agent.llm import LLMError
from flowsleuth.agent.llm.fake import FakeBackend, ScriptedChatModel
from flowsleuth.agent.verdict import Narrative
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool


@tool
def host_peers(job_id: str) -> str:
    """Compare the job's host with the run's other hosts."""
    return job_id


def test_bind_tools_returns_scripted_tool_call_and_records_tools():
    call = {"name": "host_peers", "args": {"job_id": "j1"}, "id": "c1"}
    fake = ScriptedChatModel(responses=[AIMessage("", tool_calls=[call]), "done"])
    bound = fake.bind_tools([host_peers])
    first = bound.invoke([HumanMessage("investigate j1")])
    assert first.tool_calls[0]["name"] == "host_peers"
    assert first.tool_calls[0]["args"] == {"job_id": "j1"}
    assert fake.bound_tools == ["host_peers"]
    assert bound.invoke("next").content == "done"
    assert len(fake.calls) == 2


def test_structured_output_accepts_model_dict_and_json_text():
    n = Narrative(reasoning="r", explanation="e")
    fake = ScriptedChatModel().enqueue(
        n, {"reasoning": "r2", "explanation": "e2"}, '{"reasoning": "r3", "explanation": "e3"}'
    )
    structured = fake.with_structured_output(Narrative)
    assert structured.invoke("a") == n
    assert structured.invoke("b").explanation == "e2"
    assert structured.invoke("c").reasoning == "r3"


def test_junk_and_exhausted_script_raise_llm_error():
    fake = ScriptedChatModel(responses=["this is not json"])
    with pytest.raises(LLMError, match="does not match Narrative"):
        fake.with_structured_output(Narrative).invoke("x")
    with pytest.raises(LLMError, match="exhausted"):
        fake.invoke("y")


def test_fake_backend_narrates_and_raises_scripted_errors():
    backend = FakeBackend(Narrative(reasoning="r", explanation="e"), LLMError("fake", "server down"))
    assert backend.supports_tools and backend.name == "fake"
    assert backend.narrate([HumanMessage("why?")], Narrative).explanation == "e"
    with pytest.raises(LLMError, match="server down"):
        backend.narrate([HumanMessage("again")], Narrative)
    assert backend.chat_model.calls[0][0].content == "why?"
