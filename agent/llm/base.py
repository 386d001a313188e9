"""The contract every LLM backend meets (the graph only talks to this)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

M = TypeVar("M", bound=BaseModel)


class Usage(BaseModel):
    """Token counts and wall time of the last call (zeros before the first call)."""

    prompt_tokens: int = Field(default=0, description="tokens read")
    completion_tokens: int = Field(default=0, description="tokens generated")
    latency_s: float = Field(default=0.0, description="wall-clock seconds of the call")

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LLMBackend(ABC):
    """One configured LLM.

    * ``name``: ``"<backend>:<model>"``, e.g. ``openai:smollm2`` or
      ``embedded:SmolLM2-135M-Instruct``; goes into ``Verdict.backend.name``.
    * ``supports_tools``: True when ``chat_model.bind_tools`` gives real tool calls.
    * ``compact``: True for a small local model: the graph gives it a short prompt and asks it
      for the explanation only (:class:`~agent.verdict.BriefNarrative`); its chain of thought
      was noise that cost most of an investigation's time.
    * ``chat_model``: a LangChain ``BaseChatModel`` for free-form use in a graph.
    * ``call_tools``: one turn of the tool loop (a guarded backend holds it to its deadline).
    * ``narrate``: structured output; raises :class:`~agent.llm.errors.LLMError` on an unreachable
      server, a timeout, or output that does not validate against ``schema``.
    * ``usage``: tokens and latency of the last ``narrate`` call.
    * ``regenerate``: after a narration fails validation, ask once more (with feedback) before
      removing the unsupported sentences.
    * ``joins_at_exit``: a narration abandoned at its deadline must finish before the interpreter
      exits (a thread inside torch's C++ code aborts the process); an HTTP client's need not.
    """

    name: str
    supports_tools: bool = False
    compact: bool = False
    regenerate: bool = True
    joins_at_exit: bool = False

    def __init__(self) -> None:
        self.usage = Usage()
        self.notes: list[str] = []  # what the user should be told after the command

    @property
    @abstractmethod
    def chat_model(self) -> BaseChatModel: ...

    def begin(self) -> None:  # noqa: B027  # a hook: most backends keep no per-explanation state
        """One explanation starts (a guarded backend starts its deadline; others do nothing)."""

    @abstractmethod
    def narrate(self, prompt_messages: Sequence[BaseMessage], schema: type[M]) -> M:
        """Answer ``prompt_messages`` with an instance of ``schema`` (a flat pydantic model)."""

    def call_tools(self, messages: Sequence[BaseMessage], tools: Sequence[BaseTool]) -> BaseMessage:
        """One turn of the agentic tool loop: the chat model with ``tools`` bound."""
        return self.chat_model.bind_tools(list(tools)).invoke(list(messages))
