"""``flowsleuth why RUN JOB_ID``: one investigation, as a rich panel or the verdict's JSON."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from flowsleuth.agent.verdict import Verdict
from flowsleuth.cli import options
from flowsleuth.cli.app.settings import load_settings
from flowsleuth.cli.errors import err_console, handle_errors
from flowsleuth.cli.safe import safe
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table


def render_verdict(v: Verdict) -> Panel:
    colour = "red" if v.is_anomalous else "green"
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("verdict", f"[{colour}]{'ANOMALOUS' if v.is_anomalous else 'normal'}[/]")
    head.add_row("score", "-" if v.score is None else f"{v.score:.3f} (calibrated)")
    head.add_row("class", safe(v.anomaly_class))
    head.add_row("culprit", safe(v.culprit or "-"))
    head.add_row("confidence", v.confidence)
    head.add_row("tier", safe(v.tier or "-"))
    head.add_row("backend", safe(f"{v.backend.name} (LLM {'used' if v.backend.llm_used else 'not used'})"))
    ev = Table(title="evidence (tool -> number)", title_justify="left", expand=True)
    for c in ("tool", "measure", "value"):
        ev.add_column(c)
    for e in v.evidence:
        ev.add_row(safe(e.tool), safe(e.name), f"{e.value:.4g}")
    parts: list = [head, ev, Panel(safe(v.explanation), title="explanation", title_align="left")]
    if v.examples:
        ex = Table(title="few-shot examples (other runs)", title_justify="left", expand=True)
        for c in ("run", "job", "label", "distance"):
            ex.add_column(c)
        for x in v.examples:
            ex.add_row(
                *(safe(str(x.get(k, ""))) for k in ("run", "job", "label")), f"{x.get('distance', 0):.3f}"
            )
        parts.append(ex)
    if v.backend.reason:
        parts.append(f"[dim]note: {safe(v.backend.reason)}[/]")
    return Panel(Group(*parts), title=safe(f"{v.job_id}  ({v.run_id})"), title_align="left")


@handle_errors
def why(
    run_path: str = typer.Argument(
        ...,
        metavar="RUN",
        help="The run holding the job: a run CSV, a Pegasus submit directory, a *.stampede.db "
        "file or a database URL (sqlite:///, mysql://, postgresql://).",
    ),
    job_id: str = typer.Argument(..., help="The job's DAG node id."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
    backend: str | None = options.Backend,
    base_url: str | None = options.BaseUrl,
    model: str | None = options.Model,
    max_steps: int | None = options.MaxSteps,
    home: Path | None = options.Home,
    chroma_url: str | None = options.ChromaUrl,
    threshold: float | None = options.Threshold,
    workflow: str | None = options.Workflow,
    run_id: str | None = options.RunId,
) -> None:
    """Explain whether one job looks anomalous, how sure, what kind, which host, and why."""
    from flowsleuth.agent.investigate import investigate
    from flowsleuth.cli.app.toolkit import load_toolkit
    from flowsleuth.workflows.readers import open_run, unknown_workflow_note

    cfg = load_settings(
        backend=backend,
        base_url=base_url,
        model=model,
        max_steps=max_steps,
        home=home,
        chroma_url=chroma_url,
        threshold=threshold,
    )
    run = open_run(run_path, workflow=workflow, job_id=job_id, run_id=run_id, plugins=cfg.plugins)
    run.job(job_id)  # a wrong id fails before any model loads
    for note in run.notes:  # data problems (implausible values), before the verdict
        err_console.print(f"[dim]note: {safe(note)}[/]")
    kit = load_toolkit(cfg, one_job=True)
    kit.warm(run)
    deps = kit.deps(run, job_id)
    wf_note = unknown_workflow_note(run)
    for note in [*kit.notes, *([wf_note] if wf_note else []), *deps.scores.notes]:
        err_console.print(f"[dim]note: {safe(note)}[/]")
    n_notes = len(kit.notes)
    verdict = investigate(deps, job_id)
    if as_json:
        typer.echo(verdict.model_dump_json(indent=2))
    else:
        Console().print(render_verdict(verdict))
    sys.stdout.flush()  # the verdict reaches a pipe now, not after the export below
    kit.finish()
    for note in kit.notes[n_notes:]:  # from finishing (an export that could not be cached)
        err_console.print(f"[dim]note: {safe(note)}[/]")
