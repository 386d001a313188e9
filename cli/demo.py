"""``flowsleuth demo``: prepare a home (once, cached) with the pretrained models and a job index
of the bundled sample, triage a bundled anomalous run that neither saw, and explain its top
flagged job."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from flowsleuth.cli import options
from flowsleuth.cli.app.settings import load_settings
from flowsleuth.cli.errors import err_console, handle_errors
from flowsleuth.cli.safe import safe
from rich.console import Console

DEMO_RUN = "1000-genome-run0084"  # hdd_5: disk throttled on some hosts


@handle_errors
def demo(
    backend: str | None = options.Backend,
    base_url: str | None = options.BaseUrl,
    model: str | None = options.Model,
    home: Path | None = typer.Option(None, "--home", help="Demo home (default: <data dir>/demo)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Prepare again even if cached."),
) -> None:
    """Triage the bundled sample end to end on embedded defaults (the first run builds its job index)."""
    from flowsleuth.agent.investigate import investigate
    from flowsleuth.agent.triage import triage_run
    from flowsleuth.cli.app.prepare import is_prepared, models_version, prepare_home
    from flowsleuth.cli.app.toolkit import load_toolkit
    from flowsleuth.cli.triage import summary_table
    from flowsleuth.cli.why import render_verdict
    from flowsleuth.workflows.loader import load_run
    from flowsleuth.workflows.sample import sample_run, sample_runs

    t0 = time.perf_counter()
    base = load_settings(backend=backend, base_url=base_url, model=model)
    demo_home = home or base.home / "demo"
    cfg = base.model_copy(update={"home": demo_home})
    console = Console()
    target = load_run(sample_run(DEMO_RUN))
    train = [load_run(p) for p in sample_runs() if p.stem != DEMO_RUN]
    key = f"sample-v2-models-{models_version()}-without-{DEMO_RUN}"
    if rebuild or not is_prepared(demo_home, key):
        with err_console.status("preparing the demo models") as status:
            prepare_home(demo_home, train, key, step=lambda s: status.update(f"preparing: {s}"))
        err_console.print(f"prepared {safe(str(demo_home))}: an index of {len(train)} bundled runs")
    kit = load_toolkit(cfg)
    for note in kit.notes:
        err_console.print(f"[dim]note: {safe(note)}[/]")
    console.print(f"[bold]Triage of bundled run {DEMO_RUN}[/] (held out of the models and the index)")
    deps = kit.deps(target.without_labels())
    t = triage_run(deps)
    console.print(summary_table(t))
    flagged = sorted((r for r in t.rows if r.is_anomalous), key=lambda r: -(r.score or 0))
    if flagged:
        console.print(f"[bold]Why is {safe(flagged[0].job_id)} flagged?[/]")
        console.print(render_verdict(investigate(deps, flagged[0].job_id)))
    truth = target.labels.value_counts().to_dict() if target.labels is not None else {}
    console.print(
        f"[dim]ground truth of this run (not used above): {safe(str(truth))}; "
        f"took {time.perf_counter() - t0:.1f} s. "
        f"Try: flowsleuth triage --home {safe(str(demo_home))} RUN.csv[/]"
    )
