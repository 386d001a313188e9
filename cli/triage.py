"""``flowsleuth triage PATH...``: score every job of one run or many (a run CSV, a tree or zip of
them, a Pegasus submit directory, an archive of submit directories, a stampede DB or DB URL)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from flowsleuth.agent.triage_models import RunTriage
from flowsleuth.cli import options
from flowsleuth.cli.app.pool import PoolScorer, parse_workers
from flowsleuth.cli.app.settings import Settings, load_settings
from flowsleuth.cli.app.work import Outcome, heap_frozen
from flowsleuth.cli.errors import err_console, fail, handle_errors
from flowsleuth.cli.paths import check_writable
from flowsleuth.cli.resume import ResumableOutput
from flowsleuth.cli.safe import safe
from flowsleuth.cli.triage_out import encode, encode_json
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.models import Run
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from flowsleuth.cli.app.cluster import ClusterScorer
    from flowsleuth.cli.app.toolkit import Toolkit

EXIT_ANOMALOUS = 3
Scorer = Callable[[Iterable[Run], Callable[[Run], bool]], Iterator[tuple[Run, "Outcome | None"]]]

HELP = f"""Score every job of a run (a CSV, a directory of CSVs, or a .zip; a Pegasus submit
directory, a tree of them, a stampede DB or a DB URL). Several PATHs are triaged in turn.

The fast path (classifier, kNN vote, run diagnosis) scores every job; the LLM explains only the
top --explain flagged jobs. Ground-truth labels are never read for scoring.

Exit codes: 0 it ran (and, with --fail-on anomalous, found nothing at threshold);
{EXIT_ANOMALOUS} --fail-on anomalous and anomalous jobs were found; 1 bad input or usage, or a
run of a directory, zip, archive or PATH list could not be read (it is reported and skipped;
the rest are triaged).
When both apply, {EXIT_ANOMALOUS} wins: anomalies found is the stronger signal."""


class Format(StrEnum):
    table = "table"
    jsonl = "jsonl"
    json = "json"
    csv = "csv"


class FailOn(StrEnum):
    anomalous = "anomalous"


def summary_table(t: RunTriage, top: int = 10) -> Table:
    culprits = ", ".join(f"{c.host} ({c.confidence:.2f})" for c in t.culprits[:5]) or "none"
    table = Table(
        title=safe(
            f"{t.run}: {t.n_flagged}/{t.n_jobs} jobs flagged ({t.share_flagged:.1%}); "
            f"run diagnosis {t.anomaly_class}; culprits {culprits}; tier {t.tier or '-'}"
        ),
        title_justify="left",
    )
    for c in ("job", "host", "transformation", "score", "class", "explanation"):
        table.add_column(c, overflow="fold")
    flagged = sorted((r for r in t.rows if r.is_anomalous), key=lambda r: -(r.score or 0))
    for r in flagged[:top]:
        table.add_row(
            safe(r.job_id),
            safe(r.host),
            safe(r.transformation),
            f"{r.score:.3f}",
            safe(r.anomaly_class),
            safe(r.explanation or ""),
        )
    return table


@handle_errors
def triage(
    paths: list[str] = typer.Argument(
        ...,
        metavar="PATH...",
        help="A run CSV, a directory of run CSVs, a .zip of them, a Pegasus submit directory, "
        "a directory tree of submit directories, a *.stampede.db file or a database URL "
        "(sqlite:///, mysql://, postgresql://). Several are triaged in turn, into one output.",
    ),
    fmt: Format | None = typer.Option(
        None, "--format", "-f", help="Output format (default: table on a TTY, else jsonl)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write rows here (jsonl/csv resume if killed)."
    ),
    report: Path | None = typer.Option(None, "--report", help="Also write a self-contained HTML report."),
    explain: int | None = typer.Option(
        None,
        "--explain",
        min=0,
        help="LLM-explain at most N flagged jobs in the whole command: each run's top flagged jobs, "
        "in run order, until N are explained. Default: 3 for one run CSV, 0 for a directory or .zip.",
    ),
    fail_on: FailOn | None = typer.Option(
        None, "--fail-on", help=f"Exit {EXIT_ANOMALOUS} when anomalous jobs are found."
    ),
    sft: bool = typer.Option(False, "--sft/--no-sft", help="Also score with the SFT model (slower)."),
    restart: bool = typer.Option(
        False, "--restart", help="Ignore the progress of an earlier, killed triage."
    ),
    backend: str | None = options.Backend,
    base_url: str | None = options.BaseUrl,
    model: str | None = options.Model,
    home: Path | None = options.Home,
    chroma_url: str | None = options.ChromaUrl,
    threshold: float | None = options.Threshold,
    workers: str = typer.Option(
        "1", "--workers", "-w", help="Score runs on N local processes (auto: one per core)."
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Score runs on the Dask cluster at this scheduler address [env FLOWSLEUTH_DASK_SCHEDULER].",
    ),
    workflow: str | None = options.Workflow,
) -> None:
    from flowsleuth.cli.app.toolkit import load_toolkit
    from flowsleuth.cli.sources import Sources, one_csv

    if explain is None:
        explain = 3 if one_csv(paths) else 0
    fmt = fmt or (Format.table if sys.stdout.isatty() and out is None else Format.jsonl)
    if out is not None and fmt is Format.table:
        raise fail("--out needs --format jsonl, json or csv")
    for target, what in ((out, "--out"), (report, "--report")):
        if target is not None:
            check_writable(target, what)
    cfg = load_settings(
        backend=backend if explain else "none",
        base_url=base_url,
        model=model,
        home=home,
        chroma_url=chroma_url,
        threshold=threshold,
        dask_scheduler=scheduler,
    )
    n_workers = parse_workers(workers)
    if n_workers > 1 and cfg.dask_scheduler:
        raise fail("choose --workers or --scheduler, not both")
    skipped: list[DataError] = []

    def skip(err: DataError) -> None:
        skipped.append(err)
        err_console.print(f"[yellow]skipped:[/] {safe(err, newlines=False)}")

    sources = Sources(paths, plugins=cfg.plugins)
    total = sources.count()
    runs = sources.read(workflow=workflow, on_error=skip)
    first = next(runs, None)  # validates the path before any model loads
    resumable = out is not None and fmt in (Format.jsonl, Format.csv)
    sink = ResumableOutput(out, fmt.value, restart) if resumable and out is not None else None
    try:
        if first is None:
            raise fail(f"no run of {safe(' '.join(paths))} could be read ({len(skipped)} skipped)")
        parallel = n_workers > 1 or cfg.dask_scheduler is not None
        # In parallel, workers load their own models; the parent needs them only to explain.
        kit = load_toolkit(cfg, llm=explain > 0, sft=sft, fast_sft=sft) if explain or not parallel else None
        for note in kit.notes if kit is not None else []:
            err_console.print(f"[dim]note: {safe(note)}[/]")
        scorer = _scorer(cfg, sft, n_workers) if parallel else None
        try:
            with heap_frozen():
                done, flagged = _triage_all(kit, scorer, _chain(first, runs), total, fmt, sink, explain, skip)
        finally:
            if scorer is not None:
                scorer.close()
    finally:
        if sink is not None:
            sink.close()
    for note in kit.llm.notes if kit is not None and kit.llm is not None else []:
        err_console.print(f"[dim]note: {safe(note)}[/]")
    if fmt is Format.json:
        payload = encode_json([t for t, _ in done])
        (out.write_text(payload, encoding="utf-8") if out else sys.stdout.write(payload))
    if report is not None:
        _write_report(report, done)
    if skipped:
        err_console.print(f"[yellow]{len(skipped)} run(s) skipped[/] (see above)")
    if fail_on is FailOn.anomalous and flagged:
        raise typer.Exit(EXIT_ANOMALOUS)
    if skipped:
        raise typer.Exit(1)


def _scorer(cfg: Settings, sft: bool, n_workers: int) -> PoolScorer | ClusterScorer:
    if cfg.dask_scheduler:
        from flowsleuth.cli.app.cluster import ClusterScorer

        return ClusterScorer(cfg, sft, cfg.dask_scheduler)
    return PoolScorer(cfg, sft, n_workers)


def _serial(kit: Toolkit, budget: list[int]) -> Scorer:
    from flowsleuth.agent.triage import triage_run
    from flowsleuth.cli.app.batches import batched, deps_of

    def scored(runs: Iterable[Run], skip: Callable[[Run], bool]) -> Iterator[tuple[Run, Outcome | None]]:
        for group in batched(runs, skip, max_jobs=kit.settings.batch_jobs):  # consecutive runs together
            deps = deps_of(kit, [r for r, done in group if not done])
            for run, done in group:
                if done:
                    yield run, None
                    continue
                d = deps.pop(id(run), None) or kit.deps(run)
                yield run, triage_run(d, explain=budget[0])

    return scored


def _triage_all(
    kit: Toolkit | None,
    scorer: PoolScorer | ClusterScorer | None,
    runs: Iterator[Run],
    total: int,
    fmt: Format,
    sink: ResumableOutput | None,
    explain: int,
    on_error: Callable[[DataError], None],
) -> tuple[list[tuple[RunTriage, dict[str, float]]], int]:
    """Triage every run, writing each in input order as it finishes; returns (triages with job
    starts, flagged). With a ``scorer`` (workers or a cluster) runs are scored there and only
    the explanations are made here, by the one writer of the output."""
    from flowsleuth.workflows.readers import unknown_workflow_note

    if sink is not None and sink.done:
        err_console.print(f"resuming: {len(sink.done)} run(s) already in {safe(sink.path)}")
    console = Console()
    done: list[tuple[RunTriage, dict[str, float]]] = []
    flagged = 0
    shown: set[str] = set()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    budget = [explain]  # LLM explanations left; the serial scorer reads it as it goes
    scored: Scorer
    if scorer is not None:
        scored = scorer.map
    else:
        assert kit is not None  # serial scoring loads the toolkit here
        scored = _serial(kit, budget)
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("triage", total=total)
        seen_runs = 0
        for run, outcome in scored(runs, lambda r: sink is not None and sink.is_done(r)):
            bar.update(task, description=safe(run.run_id, newlines=False))
            wf_note = unknown_workflow_note(run)
            for note in [*run.notes, *([wf_note] if wf_note else [])]:
                err_console.print(f"[dim]note: {safe(note)}[/]")
            bar.advance(task)
            seen_runs += 1
            if total and seen_runs > total:  # an archive counts submit dirs; sub-workflows add runs
                bar.update(task, total=seen_runs)
            if outcome is None:  # finished by an earlier, killed triage
                flagged += sink.flagged(run) if sink is not None else 0
                continue
            if isinstance(outcome, str):
                on_error(DataError(run.source, outcome))
                continue
            t = outcome
            if kit is not None and scorer is not None and budget[0]:
                explain_top(kit, run, t, budget[0])
            budget[0] -= sum(r.explanation is not None for r in t.rows)  # one budget for the command
            for note in t.notes:
                if note not in shown:
                    shown.add(note)
                    err_console.print(f"[dim]note: {safe(note)}[/]")
            flagged += t.n_flagged
            if sink is not None:
                sink.write(t, run)
            elif fmt is Format.table:
                console.print(summary_table(t))
            elif fmt is not Format.json:
                sys.stdout.write(encode(t, fmt.value, header=not done))
            done.append((t, {str(k): float(v) for k, v in run.frame["execute_start"].dropna().items()}))
    return done, flagged


def explain_top(kit: Toolkit, run: Run, t: RunTriage, explain: int) -> None:
    """LLM explanations for the ``explain`` highest-scoring flagged rows of ``t``, made here."""
    from flowsleuth.agent.investigate import investigate

    top = sorted((r for r in t.rows if r.is_anomalous), key=lambda r: -(r.score or 0.0))[:explain]
    if top:
        deps = kit.deps(run)
        for row in top:
            row.explanation = investigate(deps, row.job_id).explanation


def _write_report(report: Path, done: list[tuple[RunTriage, dict[str, float]]]) -> None:
    from flowsleuth.cli.report import render_report

    page = render_report([t for t, _ in done], {t.run: s for t, s in done})
    try:
        report.write_text(page, encoding="utf-8")
    except OSError as err:
        raise fail(f"cannot write report {safe(report)} ({safe(err.strerror or err)})") from None
    err_console.print(f"report written to {safe(report)}")


def _chain(first: Run, rest: Iterator[Run]) -> Iterator[Run]:
    yield first
    yield from rest
