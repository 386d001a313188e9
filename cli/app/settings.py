"""Effective configuration. Precedence: explicit (CLI flag) > environment (FLOWSLEUTH_*) >
config file (TOML) > default, in one typed object."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flowsleuth.agent.deps import DEFAULT_MAX_STEPS, DEFAULT_N_EXAMPLES
from flowsleuth.agent.llm.settings import DEFAULT_BASE_URL, DEFAULT_MODEL, BackendName, check_backend
from flowsleuth.cli.app.batches import MAX_JOBS
from flowsleuth.workflows.errors import FlowsleuthError
from platformdirs import user_config_dir, user_data_dir
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "FLOWSLEUTH_CONFIG"


def config_file() -> Path:
    """``$FLOWSLEUTH_CONFIG``, else ``<user config dir>/flowsleuth/config.toml`` (may not exist)."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path(user_config_dir("flowsleuth")) / "config.toml"


class Settings(BaseSettings):
    """Everything a command can be configured with."""

    model_config = SettingsConfigDict(env_prefix="FLOWSLEUTH_", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path(user_data_dir("flowsleuth")),
        description="where models/, index/ and cache/ live ($FLOWSLEUTH_HOME)",
    )
    backend: BackendName = Field(default="embedded", description="LLM that narrates the verdict")
    base_url: str = Field(default=DEFAULT_BASE_URL, description="OpenAI-compatible server, e.g. vLLM")
    model: str = Field(default=DEFAULT_MODEL, description="model name on that server")
    api_key_env: str = Field(default="FLOWSLEUTH_OPENAI_API_KEY", description="env var with the key")
    llm_timeout_s: float = 60.0
    llm_tools: bool = Field(default=False, description="the server supports tool calling")
    chroma_url: str | None = Field(default=None, description="Chroma server; embedded when unset")
    index_dir: Path | None = Field(default=None, description="embedded index [default: <home>/index]")
    cache_dir: Path | None = Field(
        default=None, description="rebuildable artifacts (vectors, converted weights) [default: <home>/cache]"
    )
    threads: int = Field(default=1, ge=1, description="CPU threads per model (torch, ONNX Runtime)")
    llm_int8: bool = Field(default=False, description="int8 linear layers in the embedded LLM")
    llm_compact: bool = Field(
        default=False, description="a served (openai) model gets the embedded model's short prompt"
    )
    no_plugins: bool = Field(default=False, description="load only flowsleuth's own tools, backends, readers")
    threshold: float | None = Field(default=None, description="override the fitted decision threshold")
    max_steps: int = Field(default=DEFAULT_MAX_STEPS, ge=0, description="bound on the agentic tool loop")
    n_examples: int = Field(
        default=DEFAULT_N_EXAMPLES, ge=0, description="few-shot examples per investigation"
    )
    tool_timeout_s: float = Field(default=10.0, gt=0)
    batch_jobs: int = Field(
        default=MAX_JOBS,
        ge=1,
        description="triage scores consecutive runs together up to this many jobs (a worker's "
        "task: at most 2,000); a killed command redoes at most one batch (per worker)",
    )
    dask_scheduler: str | None = Field(
        default=None, description="Dask scheduler (tcp://host:8786) that triage scores runs on"
    )

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        return check_backend(value)

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def index_path(self) -> Path:
        """The embedded index: ``index_dir`` when set, else ``<home>/index``."""
        return self.index_dir if self.index_dir is not None else self.home / "index"

    @property
    def cache_path(self) -> Path:
        """Rebuildable artifacts (embedding vectors, converted LLM weights, ONNX exports):
        ``cache_dir`` when set, else ``<home>/cache``."""
        return self.cache_dir if self.cache_dir is not None else self.home / "cache"

    @property
    def plugins(self) -> bool:
        return not self.no_plugins

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)


def load_settings(**flags: Any) -> Settings:
    """Settings with the CLI flags that were actually given (None means 'not given')."""
    try:
        return Settings(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FlowsleuthError(f"bad configuration for {where!r}: {first['msg']}") from None
    except (OSError, ValueError) as err:
        raise FlowsleuthError(f"{config_file()}: cannot read config file ({err})") from None
