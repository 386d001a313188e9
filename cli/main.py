"""The ``flowsleuth`` Typer app: sub-apps are added here, each in its own module."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from cli import data

app = typer.Typer(
    name="flowsleuth",
    help="Agentic anomaly investigator for the jobs of scientific workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")


def _version() -> str:
    try:
        return version("flowsleuth")
    except PackageNotFoundError:
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"flowsleuth {_version()}")
        raise typer.Exit()


@app.callback()
def main(
    _version_flag: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Explain anomalous jobs, triage whole runs, and plug in your own root-cause tools."""
