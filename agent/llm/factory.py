"""Build the configured backend. LLM backends are registered in the ``flowsleuth.backends``
entry-point group, flowsleuth's own (``embedded``, ``openai``) included: an entry point names a
class ``(settings: LLMSettings) -> LLMBackend``. ``none`` means no LLM."""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import entry_points

from flowsleuth.agent.llm.base import LLMBackend
from flowsleuth.agent.llm.errors import LLMError
from flowsleuth.agent.llm.settings import LLMSettings

GROUP = "flowsleuth.backends"
NONE = "none"
BackendFactory = Callable[[LLMSettings], LLMBackend]


def _plugins_disabled() -> bool:
    return os.environ.get("FLOWSLEUTH_NO_PLUGINS", "").strip().lower() in ("1", "true", "yes")


def available_backends() -> list[str]:
    """Every backend name a setting may use: ``none`` plus the registered ones."""
    names = [
        ep.name
        for ep in entry_points(group=GROUP)
        if not _plugins_disabled() or (ep.dist is not None and ep.dist.name == "flowsleuth")
    ]
    return [NONE, *sorted(set(names) | {"embedded", "openai"})]


def _backend_class(name: str) -> BackendFactory:
    for ep in entry_points(group=GROUP, name=name):
        cls = ep.load()
        if isinstance(cls, type) and issubclass(cls, LLMBackend):
            factory: BackendFactory = cls
            return factory
        raise LLMError(name, f"entry point {ep.value} is not an LLMBackend class")
    # An install that predates the entry points still has the built-ins.
    if name == "openai":
        from flowsleuth.agent.llm.openai_backend import OpenAIBackend

        return OpenAIBackend
    if name == "embedded":
        from flowsleuth.agent.llm.embedded import EmbeddedBackend

        return EmbeddedBackend
    raise LLMError(name, f"unknown backend (available: {', '.join(available_backends())})")


def make_backend(settings: LLMSettings) -> LLMBackend | None:
    """The backend ``settings.backend`` names; ``None`` for ``"none"``.

    Cheap: no request is sent and no weights are loaded until the first call. Raises
    :class:`~agent.llm.errors.LLMError` when the embedded model package is not installed.
    """
    if settings.backend == NONE:
        return None
    return _backend_class(settings.backend)(settings)
