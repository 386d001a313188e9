"""``flowsleuth index …``: build and query the Chroma index of labelled jobs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from flowsleuth.cli.errors import handle_errors
from flowsleuth.cli.options import ChromaUrl, Home
from flowsleuth.retrieval.documents import DEFAULT_TEMPLATE
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.loader import iter_runs, load_run
from flowsleuth.workflows.models import Run
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from flowsleuth.retrieval.index import AddReport, JobIndex

app = typer.Typer(help="Build and query the index of labelled jobs (Chroma).", no_args_is_help=True)

IndexDir = typer.Option(
    None, "--index-dir", help="Embedded index directory [env FLOWSLEUTH_INDEX_DIR; default <home>/index]."
)
Template = typer.Option(DEFAULT_TEMPLATE, "--template", help="What is embedded: paper-v1 or context-v1.")
EmbedderName = typer.Option(
    "minilm", "--embedder", help="minilm (default) or hashing (fast, no model, much weaker)."
)


def _open(
    home: Path | None,
    index_dir: Path | None,
    chroma_url: str | None,
    template: str,
    embedder: str,
    create: bool,
) -> JobIndex:
    """The index the same ``Settings`` as ``why`` and ``triage`` point at (flag > env > file)."""
    from flowsleuth.cli.app.settings import load_settings
    from flowsleuth.retrieval.embedder import embedder_by_name
    from flowsleuth.retrieval.index import open_index

    cfg = load_settings(home=home, index_dir=index_dir, chroma_url=chroma_url)
    # the embedder loads lazily: stats and drop never pay for the model
    emb = embedder_by_name(embedder, cfg.cache_path)
    if cfg.chroma_url is not None:
        return open_index(chroma_url=cfg.chroma_url, template=template, embedder=emb)
    return open_index(cfg.index_path, template=template, embedder=emb, create=create)


def _expand(paths: list[Path]) -> list[Path]:
    """Run CSVs under each path (zip archives stay whole: iter_runs reads them)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*.csv") if f.is_file())
            if not found:
                raise FlowsleuthError(f"{p}: the directory holds no run CSV files")
            out += found
        else:
            out.append(p)
    return out


def _runs(files: list[Path]) -> Iterator[Run]:
    for f in files:
        yield from iter_runs(f)


@app.command("build")
@handle_errors
def build(
    paths: list[Path] = typer.Argument(..., help="Run CSVs, directories of them, or .zip archives."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Drop this template's collections first."),
    home: Path | None = Home,
    index_dir: Path | None = IndexDir,
    chroma_url: str | None = ChromaUrl,
    template: str = Template,
    embedder: str = EmbedderName,
) -> None:
    """Index every labelled job of the given runs (idempotent: re-indexing adds nothing)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    files = _expand(paths)
    index = _open(home, index_dir, chroma_url, template, embedder, create=True)
    if rebuild:
        for name in index.drop():
            typer.echo(f"dropped {name}")
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        # a zip holds an unknown number of runs: no total then
        zipped = any(f.suffix.lower() == ".zip" for f in files)
        task = bar.add_task("indexing runs", total=None if zipped else len(files))
        report = index.add_runs(
            _runs(files), progress=lambda run: bar.update(task, advance=1, description=run.run_id)
        )
    _print_report(report, index.location)


def _print_report(report: AddReport, location: str) -> None:
    typer.echo(f"indexed {report.runs} run(s), {report.jobs} jobs, {report.added} new, into {location}")
    if report.skipped:
        typer.echo(f"skipped {len(report.skipped)} run(s) without labels: {', '.join(report.skipped)}")


@app.command("add")
@handle_errors
def add(
    runs: list[Path] = typer.Argument(..., help="Finished, labelled run CSVs to add."),
    home: Path | None = Home,
    index_dir: Path | None = IndexDir,
    chroma_url: str | None = ChromaUrl,
    template: str = Template,
    embedder: str = EmbedderName,
) -> None:
    """Add runs as they finish (online learning): their jobs become neighbours at once."""
    index = _open(home, index_dir, chroma_url, template, embedder, create=True)
    _print_report(index.add_runs(_runs(_expand(runs))), index.location)


@app.command("stats")
@handle_errors
def stats(
    home: Path | None = Home,
    index_dir: Path | None = IndexDir,
    chroma_url: str | None = ChromaUrl,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Jobs, runs and label classes per collection (one per workflow and template)."""
    s = _open(home, index_dir, chroma_url, DEFAULT_TEMPLATE, "minilm", create=False).stats()
    if as_json:
        typer.echo(s.model_dump_json(indent=2))
        return
    t = Table(title=f"job index {s.location}", title_justify="left")
    for col in ("workflow", "template", "embedder", "runs", "jobs", "classes"):
        t.add_column(col)
    for c in s.collections:
        classes = ", ".join(f"{k} {v}" for k, v in c.classes.items())
        t.add_row(c.workflow, c.template, c.embedder, str(c.runs), str(c.jobs), classes)
    Console().print(t)
    if not s.collections:
        typer.echo("the index is empty")


@app.command("query")
@handle_errors
def query(
    run: Path = typer.Argument(..., help="The run CSV the job belongs to."),
    job_id: str = typer.Argument(..., help="The job's DAG node id."),
    k: int = typer.Option(4, "-k", help="Few-shot examples to show."),
    home: Path | None = Home,
    index_dir: Path | None = IndexDir,
    chroma_url: str | None = ChromaUrl,
    template: str = Template,
    embedder: str = EmbedderName,
) -> None:
    """The kNN vote and the few-shot examples for one job (never from its own run)."""
    from flowsleuth.retrieval.fewshot import select_few_shot
    from flowsleuth.retrieval.knn import INDEX, knn_vote
    from flowsleuth.workflows.contract import Services, Subject

    loaded = load_run(run)
    loaded.job(job_id)  # a clear error for an unknown job, before the index opens
    index = _open(home, index_dir, chroma_url, template, embedder, create=False)
    subject = Subject(loaded.without_labels(), job_id, services=Services({INDEX: index}))
    result = knn_vote(subject)
    typer.echo(f"knn_vote [{result.status}]: {result.error or result.summary}")
    shots = select_few_shot(index, subject, k=k)
    if not shots:
        typer.echo("no few-shot examples: this workflow has no labelled jobs of other runs")
        return
    t = Table(title="few-shot examples", title_justify="left")
    for col in ("label", "distance", "run", "job", "host", "same transf."):
        t.add_column(col)
    for e in shots:
        same = "yes" if e.same_transformation else "no"
        t.add_row(e.label, f"{e.distance:.4f}", e.run, e.job, e.host, same)
    Console().print(t)


@app.command("drop")
@handle_errors
def drop(
    workflow: str | None = typer.Option(None, "--workflow", help="Only this workflow."),
    run_id: str | None = typer.Option(None, "--run", help="Only this run (needs --workflow)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    home: Path | None = Home,
    index_dir: Path | None = IndexDir,
    chroma_url: str | None = ChromaUrl,
    template: str = Template,
) -> None:
    """Remove one run, one workflow, or the whole index."""
    if run_id and not workflow:
        raise FlowsleuthError("--run needs --workflow (runs are stored per workflow)")
    what = f"run {run_id}" if run_id else f"workflow {workflow}" if workflow else "the whole index"
    if not yes and not typer.confirm(f"Remove {what}?"):
        raise typer.Exit(1)
    index = _open(home, index_dir, chroma_url, template, "minilm", create=False)
    if run_id and workflow:
        typer.echo(f"removed {index.remove_run(workflow, run_id)} job(s) of {run_id}")
        return
    names = index.drop(workflow, all_templates=workflow is None)
    typer.echo(f"dropped {len(names)} collection(s)" + (f": {', '.join(names)}" if names else ""))
