"""Options shared by the commands that investigate. ``None`` defaults mean "not given", so the
environment and the config file can fill them (flag > env > file > default)."""

from __future__ import annotations

import typer

Backend = typer.Option(None, "--backend", help="LLM that narrates: none, embedded (default) or openai.")
BaseUrl = typer.Option(
    None, "--base-url", help="OpenAI-compatible server (vLLM), e.g. http://127.0.0.1:8000/v1."
)
Model = typer.Option(None, "--model", help="Model name served at --base-url.")
MaxSteps = typer.Option(None, "--max-steps", help="Bound on the agentic tool loop.")
Home = typer.Option(None, "--home", help="Home of models/ and index/ [env FLOWSLEUTH_HOME].")
ChromaUrl = typer.Option(
    None, "--chroma-url", help="Chroma server for the job index [env FLOWSLEUTH_CHROMA_URL]."
)
Threshold = typer.Option(
    None, "--threshold", min=0.0, max=1.0, help="Override the fitted decision threshold."
)
Workflow = typer.Option(
    None,
    "--workflow",
    help="The runs' workflow, for files that do not record it (a CSV not named <workflow>-runNNNN.csv).",
)
RunId = typer.Option(
    None,
    "--run",
    help="The run's id (a Pegasus wf_uuid, as triage prints it), when the source holds several runs "
    "with that job (the sub-workflows of a hierarchical workflow).",
)
