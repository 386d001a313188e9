"""A guard around any backend: one overall deadline per explanation, and a circuit breaker.

A hanging server used to cost about 120 s per explained job (a 60 s timeout, retried once);
with ``--explain 3`` over 30 runs that was hours. Now an explanation gets ``deadline_s`` in
all, whatever the client's retries, and after the first timeout the LLM is not called again
for the rest of the command: the verdicts stand on the tool evidence, with a note saying so.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flowsleuth.agent.llm.base import LLMBackend, M, Usage
from flowsleuth.agent.llm.errors import LLMError
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool

T = TypeVar("T")
_ABANDONED: list[threading.Thread] = []
EXIT_WAIT_S = 120.0


@atexit.register
def _join_abandoned() -> None:
    """Let narrations abandoned at their deadline finish before the interpreter exits: a thread
    still inside torch's C++ code at exit aborts the process ("terminate called without an
    active exception", exit 134). Each is bounded by its backend's own time limit."""
    end = time.monotonic() + EXIT_WAIT_S
    for worker in _ABANDONED:
        worker.join(max(0.0, end - time.monotonic()))


def _is_timeout(err: BaseException) -> bool:
    cause: BaseException | None = err
    while cause is not None:
        if "Timeout" in type(cause).__name__:
            return True
        cause = cause.__cause__
    return False


class GuardedLLM(LLMBackend):
    """``inner`` with a deadline per explanation (:meth:`begin` starts one) and a breaker."""

    def __init__(self, inner: LLMBackend, deadline_s: float) -> None:
        super().__init__()
        self.inner = inner
        self.deadline_s = deadline_s
        self.name = inner.name
        self.supports_tools = inner.supports_tools
        self.compact = inner.compact
        self.regenerate = inner.regenerate
        self.notes: list[str] = []
        self._tripped: str | None = None
        self._deadline_at: float | None = None

    @property
    def chat_model(self) -> BaseChatModel:
        return self.inner.chat_model

    @property
    def tripped(self) -> bool:
        return self._tripped is not None

    def begin(self) -> None:
        """One explanation starts: every narration of it shares one deadline."""
        self._deadline_at = time.monotonic() + self.deadline_s

    def _trip(self, why: str) -> LLMError:
        self._tripped = why
        self.notes.append(
            f"the LLM ({self.name}) {why}; it is not called again in this command, and the "
            "remaining explanations are written from the tool evidence alone"
        )
        return LLMError(self.name, why)

    def narrate(self, prompt_messages: Sequence[BaseMessage], schema: type[M]) -> M:
        return self._within_deadline(lambda: self.inner.narrate(prompt_messages, schema))

    def call_tools(self, messages: Sequence[BaseMessage], tools: Sequence[BaseTool]) -> BaseMessage:
        """The tool loop shares the explanation's deadline and the breaker: unguarded, a hanging
        server cost the client's timeout and retries before the narration was even asked."""
        return self._within_deadline(lambda: self.inner.call_tools(messages, tools))

    def _within_deadline(self, fn: Callable[[], T]) -> T:
        if self._tripped is not None:
            raise LLMError(self.name, f"not called: it {self._tripped} earlier in this command")
        deadline_at = self._deadline_at or time.monotonic() + self.deadline_s
        remaining = deadline_at - time.monotonic()
        why = f"gave no answer within the {self.deadline_s:g} s deadline for one explanation"
        if remaining <= 0:
            raise self._trip(why)
        box: dict[str, Any] = {}

        def call() -> None:
            try:
                box["value"] = fn()
            except BaseException as err:  # handed to the caller's thread below
                box["error"] = err

        worker = threading.Thread(target=call, name="llm-narrate", daemon=True)
        worker.start()
        worker.join(remaining)
        self.usage = getattr(self.inner, "usage", Usage())
        if worker.is_alive():  # abandoned: it never blocks the command, at most a bounded exit wait
            if self.inner.joins_at_exit:
                _ABANDONED.append(worker)
            raise self._trip(why)
        if "error" in box:
            err = box["error"]
            if _is_timeout(err):
                raise self._trip(why) from err
            raise err
        value: T = box["value"]
        return value
