"""Record eval cases from real runs: run every tool once, keep the results, derive what the
explanation must and must not say from the findings (edit ``case.json`` by hand to refine)."""

from __future__ import annotations

from pathlib import Path

from flowsleuth.agent.evals.case import (
    SAMPLE_PREFIX,
    EvalCase,
    Expected,
    Fact,
    Forbidden,
    RecordedResult,
    save_case,
)
from flowsleuth.cli.app.toolkit import Toolkit
from flowsleuth.tools.decision.decide import decide
from flowsleuth.workflows.contract import Subject, ToolResult, ToolStatus
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import RUNS_DIR

KINDS = ("retrieval", "score", "diagnosis", "hint")
_KIND_WORDS = {"cpu": ["cpu", "contention"], "hdd": ["disk", "hdd", "i/o", " io "]}
_NEIGHBOURS = r"(neighbou?r|nearest|labell?ed jobs)"


def run_reference(run: Run, folder: Path) -> str:
    """``sample:...`` for a bundled run; else copy the job's row into the case folder."""
    source = Path(run.source).resolve()
    if source.is_relative_to(RUNS_DIR):
        return SAMPLE_PREFIX + source.relative_to(RUNS_DIR).as_posix()
    return ""


def _by_tool(results: list[RecordedResult]) -> dict[str, ToolResult]:
    return {r.result.tool: r.result for r in results}


def expectations(
    results: list[RecordedResult], truth: Expected
) -> tuple[list[Fact], list[Forbidden], list[str]]:
    """(must_mention, must_not_claim, situation tags) from the recorded findings."""
    tools = _by_tool(results)
    facts: list[Fact] = []
    forbidden: list[Forbidden] = []
    tags: list[str] = []
    if truth.is_anomalous:
        kind = truth.anomaly_class.split("_")[0]
        facts.append(Fact(fact=f"a {kind} anomaly", any=_KIND_WORDS.get(kind, [kind])))
    peers = tools.get("host_peers")
    peer = next((f for f in peers.findings if f.about == "peers"), None) if peers else None
    if peer is not None and peer.numbers:
        word = {"higher": "slower", "lower": "faster", "same": "like its peers"}[peer.direction or "same"]
        facts.append(
            Fact(fact=f"runtime {peer.numbers[0]:.2f}x its peers", any=[f"{peer.numbers[0]:.2f}", word])
        )
        if peer.direction == "higher":
            forbidden.append(Forbidden(claim="faster than its peers", pattern=r"faster than (its|the) peers"))
        if peer.direction == "lower":
            forbidden.append(Forbidden(claim="slower than its peers", pattern=r"slower than (its|the) peers"))
    knn = tools.get("knn_vote")
    if knn is None or knn.status is not ToolStatus.OK:
        tags.append("no-index")
        forbidden.append(Forbidden(claim="anything about neighbours (no kNN vote)", pattern=_NEIGHBOURS))
    else:
        tags.append("index")
        other = "normal" if knn.data.get("anomalous") else "anomalous"
        forbidden.append(
            Forbidden(claim=f"the neighbours voted {other}", pattern=_NEIGHBOURS + rf"[^.]*\bvot\w* {other}")
        )
    sft = tools.get("sft_score")
    if sft is None or sft.status is not ToolStatus.OK:
        tags.append("no-sft")
        forbidden.append(Forbidden(claim="an SFT classifier (none ran)", pattern=r"\bsft\b|fine-tuned"))
    return facts, forbidden, tags


def record_tools(kit: Toolkit, subject: Subject) -> list[RecordedResult]:
    """Every registered tool's result on ``subject`` (a job), with the kind it runs under."""
    return [
        RecordedResult(kind=kind, result=r)
        for kind in KINDS
        for r in kit.registry.run_all(subject, kinds=(kind,))
    ]


def record_case(
    kit: Toolkit,
    run: Run,
    job_id: str,
    root: Path,
    name: str,
    tags: list[str],
    recorded: list[RecordedResult],
) -> Path:
    """Write the case ``root/name`` for one job from its ``recorded`` tool results."""
    if run.labels is None:
        raise FlowsleuthError(f"{run.source}: the run has no labels; eval cases need the truth")
    subject = kit.subject(run).for_job(job_id)
    label = run.label_of(job_id)
    truth = Expected(
        is_anomalous=bool(label and label.is_anomalous), anomaly_class=label.raw if label else "None"
    )
    facts, forbidden, situation = expectations(recorded, truth)
    decision = decide([r.result for r in recorded], kit.fusion.for_workflow(run.workflow), subject.job.host)
    folder = root / name
    ref = run_reference(run, folder)
    if not ref:
        folder.mkdir(parents=True, exist_ok=True)
        ref = f"{run.run_id}.csv"
        run.frame.loc[[job_id]].assign(anomaly_type=run.labels.loc[[job_id]]).to_csv(folder / ref)
    case = EvalCase(
        name=name,
        run=ref,
        job_id=job_id,
        workflow=run.workflow,
        expected=truth,
        tags=sorted({*tags, *situation, run.workflow, truth.anomaly_class, f"scored-{decision.confidence}"}),
        must_mention=facts,
        must_not_claim=forbidden,
    )
    return save_case(case, recorded, root)
