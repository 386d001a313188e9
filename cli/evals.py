"""``flowsleuth evals record|run``: explanation eval cases as folders, and their runner."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import typer
from flowsleuth.cli import options
from flowsleuth.cli.app.settings import load_settings
from flowsleuth.cli.errors import err_console, handle_errors
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(help="Eval cases for explanations: record them from real runs, run them per LLM backend.")

CasesDir = typer.Option(Path("evals"), "--dir", help="The folder of eval cases (one folder per case).")
RESULTS = Path("bench/results/explain_eval")
COMMAND = "flowsleuth evals run --backend {backend}"


@app.command("record")
@handle_errors
def record(
    run_path: Path = typer.Argument(
        ...,
        metavar="RUN",
        help="A labelled run CSV, or a Pegasus submit directory or stampede DB in the repository "
        "(the recorded job state is the truth).",
    ),
    job_ids: list[str] = typer.Argument(None, metavar="[JOB]...", help="Jobs to record (default: --pick)."),
    pick: bool = typer.Option(
        False,
        "--pick",
        help="Pick the jobs: the clearest and the most borderline anomalous job, the most "
        "anomalous-looking normal job, and a typical normal one; in a Pegasus run, every job "
        "that failed, was held or was retried.",
    ),
    without: list[str] = typer.Option(
        [], "--also-without", help="Also write each case without this tool's result (knn_vote: no index)."
    ),
    tag: list[str] = typer.Option([], "--tag", help="Extra tag for these cases."),
    suffix: str = typer.Option("", "--suffix", help="Appended to each case name."),
    root: Path = CasesDir,
    home: Path | None = options.Home,
) -> None:
    """Record eval cases: every tool runs once on the job and its results are saved as JSON."""
    from flowsleuth.agent.triage import triage_run
    from flowsleuth.cli.app.toolkit import load_toolkit
    from flowsleuth.cli.evals_record import record_case, record_tools
    from flowsleuth.workflows.readers import open_run

    cfg = load_settings(home=home)
    run = open_run(run_path, job_id=job_ids[0] if job_ids else None, plugins=cfg.plugins)
    kit = load_toolkit(cfg, llm=False)
    for note in kit.notes:
        err_console.print(f"[dim]note: {escape(note)}[/]")
    recorded_truth = run.labels is None and run.status is not None  # a Pegasus run: no labels
    chosen: list[tuple[str, str]] = [
        (j, (st.problem if recorded_truth and (st := run.status_of(j)) else None) or "given")
        for j in job_ids or []
    ]
    if recorded_truth and (pick or not chosen):
        chosen += [(j, st.problem) for j in run.job_ids if (st := run.status_of(j)) and st.problem]
    elif pick or not chosen:
        rows = triage_run(replace(kit, index=None).deps(run)).rows  # picks need no kNN batch
        truth = {r.job_id: bool((lab := run.label_of(r.job_id)) and lab.is_anomalous) for r in rows}
        bad = sorted((r for r in rows if truth[r.job_id]), key=lambda r: -(r.score or 0.0))
        good = sorted((r for r in rows if not truth[r.job_id]), key=lambda r: -(r.score or 0.0))
        if bad:
            chosen += [(bad[0].job_id, "clear"), (bad[-1].job_id, "borderline")]
        if good:
            chosen += [(good[0].job_id, "odd-normal"), (good[len(good) // 2].job_id, "typical-normal")]
    subject = kit.subject(run)  # one per run: the diagnosis and context are computed once
    for job_id, why in dict(chosen).items():
        recorded = record_tools(kit, subject.for_job(job_id))
        stem = f"pegasus-{Path(run.source).name}-{job_id}" if recorded_truth else run.run_id
        name = f"{stem}-{why}{suffix}"
        folder = record_case(kit, run, job_id, root, name, [why, *tag], recorded)
        typer.echo(f"recorded {folder} ({job_id})")
        for tool in without:
            kept = [r for r in recorded if r.result.tool != tool]
            folder = record_case(kit, run, job_id, root, f"{name}-no-{tool}", [why, *tag], kept)
            typer.echo(f"recorded {folder} ({job_id}, without {tool})")


@app.command("run")
@handle_errors
def run_cases(
    backend: str = typer.Option("none", "--backend", help="none, embedded or openai."),
    cases: str = typer.Option("*", "--cases", help="Glob over case folder names."),
    root: Path = CasesDir,
    base_url: str | None = options.BaseUrl,
    model: str | None = options.Model,
    no_check: bool = typer.Option(
        False, "--no-claim-check", help="Numbers-only validation (for comparison)."
    ),
    out: Path = typer.Option(RESULTS, "--out", help="Results stem: writes OUT.json and OUT.md."),
    timeout_s: float = typer.Option(300.0, "--timeout", help="Generation time limit per narration (s)."),
    compact: bool = typer.Option(
        False, "--compact", help="openai: the short prompt the embedded model gets (a small served model)."
    ),
) -> None:
    """Replay the eval cases through the agent with one LLM backend; report per case and in total."""
    from flowsleuth.agent.evals import load_cases, run_case, summarise
    from flowsleuth.cli.app.toolkit import _llm
    from flowsleuth.cli.evals_report import write_report
    from flowsleuth.tools.decision.fusion import Fusion
    from flowsleuth.tools.pretrained import pretrained_models_dir

    selected = load_cases(root, cases)
    notes: list[str] = []
    llm = None
    if backend != "none":
        cfg = load_settings(
            backend=backend,
            base_url=base_url,
            model=model,
            llm_timeout_s=timeout_s,
            llm_compact=compact or None,
        )
        llm = _llm(notes, cfg)
        if llm is None:
            raise typer.BadParameter(f"backend {backend!r} unavailable: {'; '.join(notes)}")
        # The narrator itself is measured: no command-wide breaker (one slow answer would turn
        # every later case into a tool-only explanation), and the model loads before the clock.
        llm = getattr(llm, "inner", llm)
    shipped = pretrained_models_dir()
    fusion = Fusion.load(shipped / "fusion.json") if shipped else Fusion()
    if llm is not None:
        run_case(selected[0], llm, fusion)  # warm-up, untimed
    outcomes = []
    table = Table("case", "verdict", "mention", "unsupp. before", "after", "s")
    for case in selected:
        o = run_case(case, llm, fusion, check_claims=not no_check)
        outcomes.append(o)
        table.add_row(
            escape(o.case),
            "ok" if o.verdict_agrees else "WRONG",
            f"{o.mentioned}/{o.must_mention}",
            f"{o.unsupported_before}/{o.sentences_before}",
            f"{o.unsupported_after}/{o.sentences_after}",
            f"{o.latency_s:.1f}",
        )
    row = summarise(outcomes)
    shape = " (compact prompt)" if compact and backend == "openai" else ""
    row["backend"] = getattr(llm, "name", "none") + shape + (" (numbers-only check)" if no_check else "")
    row["load_avg_1m"] = round(os.getloadavg()[0], 2)
    console = Console()
    console.print(table)
    console.print_json(json.dumps(row))
    key = backend + ("-compact" if shape else "") + ("-numbers-only" if no_check else "")
    command = COMMAND.format(backend=backend) + (" --compact" if shape else "")
    write_report(out, key, row, [o.model_dump() for o in outcomes], command)
