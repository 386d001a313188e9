"""Build the configured backend. LLM backends are registered in the ``flowsleuth.backends``
entry-point group, flowsleuth's own (``embedded``, ``openai``) included: an entry point names a
class ``(settings: LLMSettings) -> LLMBackend``. ``none`` means no LLM."""

from __future__ import annotations

from collections.abc import Callable

from flowsleuth.agent.llm.base import LLMBackend
from flowsleuth.agent.llm.errors import LLMError
from flowsleuth.agent.llm.settings import LLMSettings
from flowsleuth.workflows.plugins import group_entry_points

GROUP = "flowsleuth.backends"
NONE = "none"
BackendFactory = Callable[[LLMSettings], LLMBackend]


def available_backends(*, plugins: bool = True) -> list[str]:
    """Every backend name a setting may use: ``none`` plus the registered ones (flowsleuth's
    own only, unless ``plugins``)."""
    own, others = group_entry_points(GROUP, plugins=plugins)
    return [NONE, *sorted({ep.name for ep in [*own, *others]} | {"embedded", "openai"})]


def _backend_class(name: str, plugins: bool) -> BackendFactory:
    own, others = group_entry_points(GROUP, plugins=plugins)
    for ep in [*own, *others]:
        if ep.name != name:
            continue
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
    raise LLMError(name, f"unknown backend (available: {', '.join(available_backends(plugins=plugins))})")


def make_backend(settings: LLMSettings) -> LLMBackend | None:
    """The backend ``settings.backend`` names; ``None`` for ``"none"``.

    Cheap: no request is sent and no weights are loaded until the first call. Raises
    :class:`~agent.llm.errors.LLMError` when the embedded model package is not installed.
    """
    if settings.backend == NONE:
        return None
    return _backend_class(settings.backend, settings.plugins)(settings)
