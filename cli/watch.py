"""``flowsleuth watch RUN.csv|SUBMIT_DIR|DB|URL``: online detection on a run CSV that grows as
jobs finish, or on a running Pegasus workflow through its stampede DB (:mod:`cli.watch_pegasus`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from flowsleuth.cli import options
from flowsleuth.cli.app.settings import load_settings
from flowsleuth.cli.errors import err_console, handle_errors
from flowsleuth.cli.safe import safe
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run


@handle_errors
def watch(
    source: str = typer.Argument(
        ...,
        metavar="RUN.csv|SUBMIT_DIR|DB|URL",
        help="A run CSV that grows as jobs finish, or a running Pegasus workflow: its submit "
        "directory, its *.stampede.db file or the DB URL.",
    ),
    interval: float = typer.Option(1.0, "--interval", min=0.05, help="Seconds between polls."),
    idle_exit: float | None = typer.Option(
        None, "--idle-exit", help="Stop after this many seconds without growth."
    ),
    stall_after: float = typer.Option(
        10.0,
        "--stall-after",
        min=0.0,
        help="Pegasus: report a stall after this many minutes "
        "without a job state change while jobs are queued.",
    ),
    home: Path | None = options.Home,
    chroma_url: str | None = options.ChromaUrl,
    threshold: float | None = options.Threshold,
    workflow: str | None = options.Workflow,
) -> None:
    """Emit one JSON verdict line per new job as it appears, re-computing the run context each
    time; each line carries ``latency_ms``, the time from seeing the job to its verdict."""
    from flowsleuth.agent.triage import triage_run
    from flowsleuth.cli.app.toolkit import load_toolkit
    from flowsleuth.cli.follow import Follower
    from flowsleuth.workflows.names import canonical_workflow
    from flowsleuth.workflows.pegasus import is_pegasus_source

    cfg = load_settings(backend="none", home=home, chroma_url=chroma_url, threshold=threshold)
    pegasus = is_pegasus_source(source)
    run_path = Path(source)
    if not pegasus and not run_path.is_file():
        raise DataError(run_path, "no such file")
    kit = load_toolkit(cfg, llm=False, sft=False)
    for note in kit.notes:
        err_console.print(f"[dim]note: {safe(note)}[/]")
    if pegasus:
        from flowsleuth.cli.watch_pegasus import watch_pegasus

        def score(run: Run) -> dict[str, dict[str, object]]:
            return {r.job_id: r.model_dump() for r in triage_run(kit.deps(run)).rows}

        watch_pegasus(source, score, interval=interval, stall_after_min=stall_after, idle_exit=idle_exit)
        return
    seen: set[str] = set()
    follower = Follower(
        run_path,
        report=lambda line: err_console.print(f"[yellow]watch:[/] {safe(line)}"),
        workflow=canonical_workflow(workflow) if workflow else None,
    )
    last_change = time.monotonic()
    while True:
        if follower.changed():
            last_change = time.monotonic()
            t0 = time.perf_counter()
            run = follower.poll()
            if run is not None and set(run.job_ids) - seen:
                result = triage_run(kit.deps(run.without_labels()))
                latency = (time.perf_counter() - t0) * 1000
                for row in result.rows:
                    if row.job_id not in seen:
                        seen.add(row.job_id)
                        line = {**row.model_dump(), "latency_ms": round(latency, 1)}
                        typer.echo(json.dumps(line))
            last_change = time.monotonic()  # idle time counts from the end of the work
        if idle_exit is not None and time.monotonic() - last_change > idle_exit:
            return
        time.sleep(interval)
