"""LLM backends. The agent's graph uses only this interface::

    from flowsleuth.agent.llm import LLMSettings, make_backend, LLMError
    backend = make_backend(LLMSettings(backend="openai", base_url=..., model=...))  # or None
    narrative = backend.narrate(messages, Narrative)   # structured; raises LLMError
    backend.name, backend.supports_tools, backend.chat_model, backend.usage

* ``LLMSettings``: backend ("none" | "embedded" | "openai"), base_url, model, api_key_env,
  timeout_s, max_retries, temperature, max_tokens, tools.
* ``make_backend(settings) -> LLMBackend | None``: None for "none"; cheap (lazy).
* ``LLMBackend``: ``name`` ("openai:<model>", "embedded:SmolLM2-135M-Instruct"),
  ``supports_tools``, ``chat_model`` (a LangChain ``BaseChatModel``), ``narrate(messages, schema)``,
  ``usage`` (tokens and latency of the last call).
* ``LLMError(FlowsleuthError)``: unreachable server, timeout, or junk output. Catch it and fall
  back to the tool-only verdict: a verdict never depends on the LLM.
* ``agent.llm.fake``: ``ScriptedChatModel`` / ``FakeBackend`` for tests.
"""

from flowsleuth.agent.llm.base import LLMBackend, Usage
from flowsleuth.agent.llm.errors import LLMError
from flowsleuth.agent.llm.factory import make_backend
from flowsleuth.agent.llm.settings import LLMSettings

__all__ = ["LLMBackend", "LLMError", "LLMSettings", "Usage", "make_backend"]
