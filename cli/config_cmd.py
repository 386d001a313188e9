"""``flowsleuth config show``: the effective configuration and where it comes from."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from flowsleuth.cli import options
from flowsleuth.cli.app.settings import load_settings
from flowsleuth.cli.errors import handle_errors
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)


@app.command("show")
@handle_errors
def show(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    backend: str | None = options.Backend,
    base_url: str | None = options.BaseUrl,
    model: str | None = options.Model,
    home: Path | None = options.Home,
) -> None:
    """Print every setting after precedence: flag > env (FLOWSLEUTH_*) > config file > default."""
    from flowsleuth.cli.app.settings import config_file

    cfg = load_settings(backend=backend, base_url=base_url, model=model, home=home)
    values = json.loads(cfg.model_dump_json())
    values["config_file"] = f"{config_file()} ({'present' if config_file().is_file() else 'absent'})"
    if as_json:
        typer.echo(json.dumps(values, indent=2))
        return
    table = Table(title="flowsleuth configuration", title_justify="left")
    table.add_column("setting", style="bold")
    table.add_column("value")
    for k, v in values.items():
        table.add_row(k, str(v))
    Console().print(table)
