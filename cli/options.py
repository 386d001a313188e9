"""Options shared by the commands that investigate. ``None`` defaults mean "not given", so the
environment and the config file can fill them (flag > env > file > default)."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.settings import Settings, load_settings

Backend = typer.Option(None, "--backend", help="LLM that narrates: none, embedded (default) or openai.")
BaseUrl = typer.Option(
    None, "--base-url", help="OpenAI-compatible server (vLLM), e.g. http://127.0.0.1:8000/v1."
)
Model = typer.Option(None, "--model", help="Model name served at --base-url.")
MaxSteps = typer.Option(None, "--max-steps", help="Bound on the agentic tool loop.")
Home = typer.Option(None, "--home", help="Where models, index and checkpoints live [env FLOWSLEUTH_HOME].")
ChromaUrl = typer.Option(
    None, "--chroma-url", help="Chroma server for the job index [env FLOWSLEUTH_CHROMA_URL]."
)
Threshold = typer.Option(
    None, "--threshold", min=0.0, max=1.0, help="Override the fitted decision threshold."
)


def settings(
    *,
    backend: str | None = None,
    base_url: str | None = None,
    model: str | None = None,
    max_steps: int | None = None,
    home: Path | None = None,
    chroma_url: str | None = None,
    threshold: float | None = None,
) -> Settings:
    return load_settings(
        backend=backend,
        base_url=base_url,
        model=model,
        max_steps=max_steps,
        home=home,
        chroma_url=chroma_url,
        threshold=threshold,
    )
