"""A scripted chat model and backend for tests (no network, no weights).

LangChain's ``GenericFakeChatModel`` cannot ``bind_tools`` or ``with_structured_output``
(it has no tool-calling or structured-output support); this one can. Script it with a queue of replies::

    fake = ScriptedChatModel(responses=[
        AIMessage("", tool_calls=[{"name": "host_peers", "args": {}, "id": "1"}]),
        "plain text reply",
        Narrative(reasoning="...", explanation="..."),   # for with_structured_output
        '{"reasoning": "...", "explanation": "..."}',    # JSON text is parsed too
        LLMError("fake", "down"),                        # raised when reached
    ])

Every call pops one reply; an empty queue raises ``LLMError``. ``calls`` records the messages
of each call and ``bound_tools`` the tool names last bound.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flowsleuth.agent.llm.base import LLMBackend, M, Usage
from flowsleuth.agent.llm.errors import LLMError
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field, ValidationError

Reply = AIMessage | str | BaseModel | dict[str, Any] | Exception


class ScriptedChatModel(BaseChatModel):
    """Replies from a queue, in order. Supports ``bind_tools`` and ``with_structured_output``."""

    responses: list[Any] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "flowsleuth-scripted"

    def enqueue(self, *replies: Reply) -> ScriptedChatModel:
        self.responses.extend(replies)
        return self

    def _next(self, messages: Sequence[BaseMessage]) -> Any:
        self.calls.append(list(messages))
        if not self.responses:
            raise LLMError("fake", "script exhausted: no reply left in the queue")
        reply = self.responses.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._next(messages)
        if isinstance(reply, AIMessage):
            return ChatResult(generations=[ChatGeneration(message=reply)])
        if isinstance(reply, BaseModel):
            reply = reply.model_dump_json()
        elif isinstance(reply, dict):
            reply = json.dumps(reply)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=str(reply)))])

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        self.bound_tools = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def with_structured_output(
        self, schema: Any, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        def run(value: LanguageModelInput) -> Any:
            reply = self._next(self._convert_input(value).to_messages())
            parsed = _parse(reply, schema)
            if include_raw:
                return {"raw": AIMessage(content=str(reply)), "parsed": parsed, "parsing_error": None}
            return parsed

        return RunnableLambda(run)


def _parse(reply: Any, schema: type[BaseModel]) -> BaseModel:
    if isinstance(reply, schema):
        return reply
    try:
        if isinstance(reply, AIMessage):
            reply = reply.content
        if isinstance(reply, str):
            return schema.model_validate_json(reply)
        return schema.model_validate(reply)
    except ValidationError as err:
        raise LLMError("fake", f"reply does not match {schema.__name__}: {str(reply)[:80]!r}") from err


class FakeBackend(LLMBackend):
    """An :class:`LLMBackend` over a :class:`ScriptedChatModel` (``supports_tools`` by default)."""

    def __init__(
        self, *replies: Reply, supports_tools: bool = True, name: str = "fake", compact: bool = False
    ) -> None:
        super().__init__()
        self.name = name
        self.supports_tools = supports_tools
        self.compact = compact
        self._chat = ScriptedChatModel(responses=list(replies))

    @property
    def chat_model(self) -> ScriptedChatModel:
        return self._chat

    def narrate(self, prompt_messages: Sequence[BaseMessage], schema: type[M]) -> M:
        self.usage = Usage(prompt_tokens=sum(len(str(m.content)) // 4 for m in prompt_messages))
        out = self._chat.with_structured_output(schema).invoke(list(prompt_messages))
        if not isinstance(out, schema):
            raise LLMError(self.name, f"reply does not match {schema.__name__}")
        return out
