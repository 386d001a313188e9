"""Any OpenAI-compatible server (vLLM in production) through langchain-openai's ChatOpenAI."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from flowsleuth.agent.llm.base import LLMBackend, M, Usage
from flowsleuth.agent.llm.errors import LLMError
from flowsleuth.agent.llm.settings import LLMSettings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import SecretStr


class OpenAIBackend(LLMBackend):
    """Structured output via ``with_structured_output(schema, method="json_schema")``: the server
    (vLLM's guided decoding) constrains the reply, so even a small model returns valid JSON."""

    def __init__(self, settings: LLMSettings) -> None:
        super().__init__()
        from langchain_openai import ChatOpenAI

        self.settings = settings
        self.name = f"openai:{settings.model}"
        self.supports_tools = settings.tools
        self.compact = settings.compact
        self._chat = ChatOpenAI(
            base_url=settings.base_url,
            model=settings.model,
            api_key=SecretStr(settings.api_key()),
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,
            temperature=settings.temperature,
            max_completion_tokens=settings.max_tokens,
        )

    @property
    def chat_model(self) -> BaseChatModel:
        return self._chat

    def narrate(self, prompt_messages: Sequence[BaseMessage], schema: type[M]) -> M:
        runnable = self._chat.with_structured_output(schema, method="json_schema", include_raw=True)
        start = time.perf_counter()
        try:
            out: Any = runnable.invoke(list(prompt_messages))
        except Exception as err:  # openai/httpx errors have no common base worth naming
            self.usage = _usage_of(err, time.perf_counter() - start)
            raise LLMError(self.name, _describe(err, self.settings, schema)) from err
        latency = time.perf_counter() - start
        raw = out.get("raw")
        meta = getattr(raw, "usage_metadata", None) or {}
        self.usage = Usage(
            prompt_tokens=int(meta.get("input_tokens", 0)),
            completion_tokens=int(meta.get("output_tokens", 0)),
            latency_s=latency,
        )
        parsed = out.get("parsed")
        if out.get("parsing_error") is not None or not isinstance(parsed, schema):
            text = str(getattr(raw, "content", ""))[:120]
            raise LLMError(self.name, f"reply does not match {schema.__name__}: {text!r}")
        return parsed


def _usage_of(err: Exception, latency_s: float) -> Usage:
    """Token counts a failed call still reports (a reply cut at max_tokens carries them)."""
    usage = getattr(getattr(err, "completion", None), "usage", None)
    return Usage(
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        latency_s=latency_s,
    )


def _describe(err: Exception, settings: LLMSettings, schema: type) -> str:
    import openai
    from langchain_core.exceptions import OutputParserException
    from pydantic import ValidationError

    if isinstance(err, openai.LengthFinishReasonError):
        return f"reply cut at max_tokens={settings.max_tokens} before its JSON closed"
    if isinstance(err, ValidationError | OutputParserException | json.JSONDecodeError):
        return f"reply does not match {schema.__name__}: {str(err)[:120]}"
    if isinstance(err, openai.APITimeoutError):
        tries = settings.max_retries + 1
        each = f"{settings.timeout_s:g} s"
        return f"no answer from {settings.base_url} ({tries} attempt(s), each timed out after {each})"
    if isinstance(err, openai.APIConnectionError):
        return f"cannot reach {settings.base_url} (is the server running?)"
    if isinstance(err, openai.NotFoundError):
        return f"model {settings.model!r} not served at {settings.base_url}"
    if isinstance(err, openai.APIStatusError):
        return f"server answered {err.status_code}: {str(err)[:160]}"
    if isinstance(err, IndexError | KeyError | AttributeError | TypeError):  # e.g. no "choices"
        return f"the reply from {settings.base_url} is not an OpenAI chat completion ({type(err).__name__})"
    return f"{type(err).__name__}: {str(err)[:160]}"
