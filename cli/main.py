"""The ``flowsleuth`` Typer app: sub-apps are added here, each in its own module."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import typer
from flowsleuth.cli import classifier, config_cmd, data, demo, evals, teach, tools_cmd, triage, watch, why
from flowsleuth.cli import index as index_cmd
from typer.core import TyperGroup


class _Group(TyperGroup):
    """Usage errors exit 1 (the documented code for bad input or usage), not click's 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except SystemExit as exit_:
            if exit_.code == 2:
                raise SystemExit(1) from None
            raise


app = typer.Typer(
    name="flowsleuth",
    cls=_Group,
    help="Agentic anomaly investigator for the jobs of scientific workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("why")(why.why)
app.command("triage", help=triage.HELP)(triage.triage)
app.command("watch")(watch.watch)
app.command("demo")(demo.demo)
app.add_typer(data.app, name="data")
app.add_typer(index_cmd.app, name="index")
app.add_typer(tools_cmd.app, name="tools")
app.add_typer(config_cmd.app, name="config")
app.add_typer(evals.app, name="evals")
app.add_typer(teach.baseline_app, name="baseline")
app.command("label")(teach.label)
app.command("feedback")(teach.feedback)
classifier.register(app)


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
