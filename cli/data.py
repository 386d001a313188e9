"""``flowsleuth data …``: look at run files."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from flowsleuth.cli import options
from flowsleuth.cli.app.settings import load_settings
from flowsleuth.cli.errors import err_console, handle_errors
from flowsleuth.cli.safe import safe
from flowsleuth.workflows.readers import open_runs, unknown_workflow_note
from flowsleuth.workflows.summary import RunSummary, summarize
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Inspect Flow-Bench run files.", no_args_is_help=True)


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _counts(d: dict[str, int] | None) -> str:
    if d is None:
        return "(no labels)"
    return safe(", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])))


def _run_table(s: RunSummary) -> Table:
    t = Table(title=f"{safe(s.run_id)}  [dim]{safe(s.source)}[/]", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    t.add_row("workflow", safe(s.workflow))
    t.add_row("injected anomaly", safe(s.injected or "unknown"))
    t.add_row("jobs", str(s.jobs))
    t.add_row("hosts", str(s.hosts))
    t.add_row("job types", _counts(s.job_types))
    t.add_row("transformations", _counts(s.transformations))
    t.add_row("labels", _counts(s.labels))
    span = f"{s.span_s:.0f} s" if s.span_s is not None else "-"
    t.add_row("time span", f"{_when(s.start)} → {_when(s.end)} UTC ({span})")
    if s.missing_features:
        t.add_row("missing values", _counts(s.missing_features))
    if s.job_states is not None:
        c = s.job_states
        t.add_row(
            "job states",
            f"{c.total} total, {c.succeeded} succeeded, {c.failed} failed, {c.held} held, "
            f"{c.unsubmitted} unsubmitted ({c.running} running), {c.retried} retried",
        )
    if s.parent_run:
        t.add_row("parent run", s.parent_run)
    return t


@app.command("info")
@handle_errors
def info(
    path: str = typer.Argument(
        ...,
        help="A run CSV, a directory or .zip of them, a Pegasus submit directory, a *.stampede.db "
        "file or a database URL.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    workflow: str | None = options.Workflow,
) -> None:
    """Summarise runs: jobs, hosts, transformations, label counts and time span."""
    summaries = []
    for run in open_runs(path, workflow=workflow, plugins=load_settings().plugins):
        summaries.append(summarize(run))
        wf_note = unknown_workflow_note(run)
        for note in [*run.notes, *([wf_note] if wf_note else [])]:
            err_console.print(f"[dim]note: {safe(note)}[/]")
    if as_json:
        payload = [s.model_dump() for s in summaries]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
        return
    console = Console()
    for s in summaries:
        console.print(_run_table(s))
