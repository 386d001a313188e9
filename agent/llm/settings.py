"""Which LLM to use: one typed object. The caller (the CLI's ``Settings``) resolves precedence
(flag > env > config > default) and passes the result."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

BackendName = str
"""``none``, or a backend registered in the ``flowsleuth.backends`` entry-point group."""


def check_backend(name: str) -> str:
    """``name`` when it is a known backend; a ValueError listing the known ones otherwise."""
    from flowsleuth.agent.llm.factory import available_backends

    known = available_backends()
    if name not in known:
        raise ValueError(f"unknown LLM backend {name!r} (one of: {', '.join(known)})")
    return name


DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
DEFAULT_MODEL = "smollm2"


class LLMSettings(BaseModel):
    """LLM backend settings (``LLMSettings(backend="openai", base_url=..., model=...)``)."""

    model_config = ConfigDict(frozen=True)

    backend: BackendName = Field(
        default="embedded",
        description="none: no LLM; embedded: packaged SmolLM2-135M on CPU; "
        "openai: any OpenAI-compatible server (vLLM in production)",
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="OpenAI-compatible endpoint")
    model: str = Field(default=DEFAULT_MODEL, description="served model name (openai only)")
    api_key_env: str = Field(
        default="FLOWSLEUTH_OPENAI_API_KEY",
        description="environment variable holding the API key; falls back to OPENAI_API_KEY, "
        "then to 'EMPTY' (vLLM accepts any key unless started with --api-key)",
    )
    timeout_s: float = Field(default=60.0, gt=0, description="per-request timeout in seconds")
    max_retries: int = Field(default=1, ge=0, le=5, description="bounded client retries")
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=256, gt=0, le=8192, description="cap on generated tokens")
    plugins: bool = Field(default=True, description="backends of other distributions may be used")
    threads: int = Field(default=1, ge=1, description="CPU threads of an embedded model")
    int8: bool = Field(default=False, description="int8 linear layers in an embedded model (~5 % less CPU)")
    cache_dir: Path | None = Field(
        default=None, description="where an embedded model keeps its converted weights [user cache]"
    )
    compact: bool = Field(
        default=False,
        description="openai: the short prompt and explanation-only reply the embedded model gets "
        "(for a small served model, which loops on the long prompt)",
    )
    tools: bool = Field(
        default=False,
        description="the server does tool calling (vLLM started with --enable-auto-tool-choice "
        "and a --tool-call-parser); off by default because a plain vLLM rejects tools",
    )

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        return check_backend(value)

    def api_key(self) -> str:
        """The key from ``api_key_env``, else ``OPENAI_API_KEY``, else ``'EMPTY'``."""
        return os.environ.get(self.api_key_env) or os.environ.get("OPENAI_API_KEY") or "EMPTY"
