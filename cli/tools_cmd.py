"""``flowsleuth tools …``: the tools the agent can call, and where each came from."""

from __future__ import annotations

import json

import typer
from flowsleuth.cli.errors import handle_errors
from flowsleuth.cli.safe import safe
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="List the agent's tools (built-ins and plugins).", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_tools(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    plugins: bool | None = typer.Option(
        None,
        "--plugins/--no-plugins",
        help="Load installed plugins (default: yes, unless $FLOWSLEUTH_NO_PLUGINS is set).",
    ),
) -> None:
    """Show each tool: name, kind, source, status (prerequisites) and one-line description."""
    from flowsleuth.cli.app.settings import load_settings
    from flowsleuth.tools.registry import default_registry

    registry = default_registry(entry_points=plugins if plugins is not None else load_settings().plugins)
    rows = [
        {"name": t.name, "kind": t.kind, "source": t.source, "status": t.status, "description": t.summary}
        for t in registry.tools()
    ]
    if as_json:
        typer.echo(json.dumps({"tools": rows, "conflicts": registry.conflicts}, indent=2))
        return
    table = Table(title="flowsleuth tools", title_justify="left")
    for col in ("name", "kind", "source", "status", "description"):
        table.add_column(col, overflow="fold")
    for r in rows:
        style = "" if r["status"] == "ready" else "yellow"
        table.add_row(*(safe(r[k]) for k in ("name", "kind", "source", "status", "description")), style=style)
    console = Console()
    console.print(table)
    for line in registry.conflicts:
        console.print(f"[yellow]note:[/] {safe(line)}", markup=True, highlight=False)
