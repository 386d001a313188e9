"""Teach flowsleuth a workflow: ``baseline add`` (history, no labels), ``label`` and ``feedback``
(a few labelled jobs). Judged runs of that workflow then say which tier their verdict came from."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from flowsleuth.cli import options
from flowsleuth.cli.app.settings import load_settings
from flowsleuth.cli.errors import err_console, handle_errors
from flowsleuth.cli.safe import safe
from flowsleuth.workflows.errors import FlowsleuthError

baseline_app = typer.Typer(
    help="Learn a workflow's normal from its past runs (no labels needed).", no_args_is_help=True
)
WorkflowOpt = typer.Option(
    None, "--workflow", help="Workflow name [default: from each run's file name, <workflow>-runNNNN.csv]."
)


@baseline_app.command("add")
@handle_errors
def baseline_add(
    paths: list[str] = typer.Argument(
        ...,
        help="Past runs: CSVs, directories or .zip archives of them, Pegasus submit directories, "
        "stampede DB files or URLs.",
    ),
    workflow: str | None = WorkflowOpt,
    home: Path | None = options.Home,
) -> None:
    """Add past runs to their workflow's history. Labels, if any, are ignored; a few anomalous
    runs among them do little harm (medians of per-run medians)."""
    from flowsleuth.tools.generalist.history import History
    from flowsleuth.tools.generalist.store import Store
    from flowsleuth.workflows.readers import open_runs

    cfg = load_settings(home=home)
    store = Store(cfg.home)
    t0 = time.perf_counter()
    new: dict[str, History] = {}  # this command's runs, merged into the stored history at the end
    for path in paths:
        for run in open_runs(path, workflow=workflow, plugins=cfg.plugins):
            new.setdefault(run.workflow, History(workflow=run.workflow)).add([run])
    for wf, hist in new.items():
        added, total = store.add_history(hist)
        err_console.print(
            f"{safe(wf)}: {added} new run(s), {total} in its history ({time.perf_counter() - t0:.1f} s)"
        )


@baseline_app.command("show")
@handle_errors
def baseline_show(home: Path | None = options.Home) -> None:
    """The workflows with a history, and how many runs each."""
    from flowsleuth.tools.generalist.store import Store

    hists = Store(load_settings(home=home).home).histories()
    if not hists:
        err_console.print("no history yet: flowsleuth baseline add RUNS...")
    for h in hists:
        typer.echo(json.dumps({"workflow": h.workflow, "runs": h.n_runs}))


@handle_errors
def label(
    run_path: str = typer.Argument(
        ..., help="The run the job belongs to (a run CSV, a Pegasus submit directory, a DB file or URL)."
    ),
    jobs: list[str] = typer.Argument(..., help="DAG node id(s) of the job(s)."),
    anomalous: bool | None = typer.Option(None, "--anomalous/--normal", help="What the job really is."),
    workflow: str | None = WorkflowOpt,
    run_id: str | None = options.RunId,
    home: Path | None = options.Home,
    cls: str | None = typer.Option(
        None,
        "--class",
        help="The anomaly class (cpu_K / hdd_K); needed to add an anomalous job to the index.",
    ),
    index: bool = typer.Option(True, "--index/--no-index", help="Also add the job to the Chroma index."),
) -> None:
    """Confirm or correct a verdict: the job's features are kept in the home and the workflow's
    scorer adapts to them at the next triage or why."""
    from flowsleuth.cli.teach_ops import record_labels
    from flowsleuth.workflows.readers import open_run

    if anomalous is None:
        raise FlowsleuthError("say what the job is: --anomalous or --normal")
    cfg = load_settings(home=home)
    run = open_run(run_path, workflow=workflow, job_id=jobs[0], run_id=run_id, plugins=cfg.plugins)
    n, runs, indexed = record_labels(cfg, run, {j: (anomalous, cls) for j in jobs}, index=index)
    err_console.print(
        f"{safe(run.workflow)}: {n} job(s) labelled, {indexed} added to the index; "
        f"{runs} labelled run(s) in total"
    )


@handle_errors
def feedback(
    triage_jsonl: Path = typer.Argument(..., help="Triage JSONL with a 'feedback' field on some rows."),
    runs: list[str] = typer.Option(
        ..., "--runs", help="The triaged runs (as given to triage: CSVs, directories, .zip, Pegasus)."
    ),
    home: Path | None = options.Home,
    index: bool = typer.Option(True, "--index/--no-index", help="Also add the jobs to the Chroma index."),
) -> None:
    """Feed confirmed or rejected verdicts back. A row's ``feedback`` is "anomalous" or "normal"
    (what the job really is), or ``confirmed``: true/false (the verdict was right/wrong)."""
    from flowsleuth.cli.teach_ops import read_feedback, record_labels
    from flowsleuth.workflows.readers import open_runs

    cfg = load_settings(home=home)
    wanted = read_feedback(triage_jsonl)
    total, n_runs = 0, 0
    for path in runs:
        for run in open_runs(path, plugins=cfg.plugins):
            if run.run_id in wanted:
                n, n_runs, _ = record_labels(cfg, run, wanted.pop(run.run_id), index=index)
                total += n
    if wanted:
        missing = ", ".join(sorted(wanted)[:5])
        raise FlowsleuthError(f"{total} job(s) labelled, but no run file for: {missing}")
    err_console.print(f"{total} job(s) labelled from {safe(str(triage_jsonl))}; {n_runs} labelled run(s)")
