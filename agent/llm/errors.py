"""The one error the LLM layer raises: callers catch it and fall back to a tool-only verdict."""

from __future__ import annotations

from flowsleuth.workflows.errors import FlowsleuthError


class LLMError(FlowsleuthError):
    """The LLM could not answer: server unreachable, timeout, or output that fails the schema.

    ``backend`` names the backend (e.g. ``openai:smollm2``) so the message says where it failed.
    """

    def __init__(self, backend: str, message: str) -> None:
        self.backend = backend
        self.reason = message
        super().__init__(f"LLM backend {backend}: {message}")
