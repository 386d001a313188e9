"""Build the configured backend."""

from __future__ import annotations

from flowsleuth.agent.llm.base import LLMBackend
from flowsleuth.agent.llm.settings import LLMSettings


def make_backend(settings: LLMSettings) -> LLMBackend | None:
    """The backend ``settings.backend`` names; ``None`` for ``"none"``.

    Cheap: no request is sent and no weights are loaded until the first call. Raises
    :class:`~agent.llm.errors.LLMError` when the embedded model package is not installed.
    """
    if settings.backend == "none":
        return None
    if settings.backend == "openai":
        from flowsleuth.agent.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(settings)
    from flowsleuth.agent.llm.embedded import EmbeddedBackend

    return EmbeddedBackend(settings)
