"""Record eval cases from real runs: run every tool once, keep the results, derive what the
explanation must and must not say from the findings (edit ``case.json`` by hand to refine)."""

from __future__ import annotations

import os
import re
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
from flowsleuth.tools.decision.decide import Decision, decide
from flowsleuth.workflows.contract import Subject, ToolResult, ToolStatus
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import RUNS_DIR

KINDS = ("retrieval", "score", "diagnosis", "hint", "state")
_KIND_WORDS = {"cpu": ["cpu"], "hdd": ["disk", "hdd", "i/o", " io "]}
_NEIGHBOURS = r"(neighbou?r|nearest|labell?ed jobs)"


def run_reference(run: Run, folder: Path) -> str:
    """``sample:...`` for a bundled run; a Pegasus run's submit dir or DB as a path relative to
    the case folder (it must lie in the repository); else "" (the job's row is copied)."""
    source = Path(run.source).resolve()
    if source.is_relative_to(RUNS_DIR):
        return SAMPLE_PREFIX + source.relative_to(RUNS_DIR).as_posix()
    if run.status is not None and run.labels is None and source.exists():
        repo = folder.resolve().parent.parent
        if not source.is_relative_to(repo):
            raise FlowsleuthError(
                f"{run.source}: outside {repo}; copy the submit directory into the repository "
                "(e.g. tests/fixtures/pegasus/) first: a case must not need files outside it"
            )
        return Path(os.path.relpath(source, folder.resolve())).as_posix()
    return ""


def recorded_truth(run: Run, job_id: str) -> Expected:
    """What Pegasus recorded about the job is its truth: failure, held or retried, else normal."""
    st = run.status_of(job_id)
    problem = st.problem if st is not None else None
    return Expected(is_anomalous=problem is not None, anomaly_class=problem or "None")


def state_expectations(results: list[RecordedResult]) -> tuple[list[Fact], list[Forbidden]]:
    """Facts the prose must state from the recorded job state (the state, the exit code, the
    telling output line, held), and the claims that would contradict it."""
    st = _by_tool(results).get("job_state")
    if st is None or st.status is not ToolStatus.OK or "outcome" not in st.data:
        return [], []
    d = st.data
    facts = [Fact(fact=f"last state {d['state']}", any=[str(d["state"])])] if d.get("state") else []
    forbidden = [
        Forbidden(claim="the job succeeded", pattern=r"\b(job|it) (succeeded|completed successfully)")
    ]
    if d.get("exit_code") is not None:
        facts.append(Fact(fact=f"exit code {d['exit_code']}", any=[f"exit code {d['exit_code']}"]))
        if d["exit_code"] != 0:
            forbidden.append(Forbidden(claim="exit code 0", pattern=r"exit code 0\b"))
    if d.get("problem") == "failure":
        facts.append(Fact(fact="it failed", any=["failed", "failure"]))
    if d.get("held"):
        facts.append(Fact(fact="it was held", any=["held"]))
        if reason := str(d.get("held_reason") or "").strip():
            facts.append(Fact(fact="why HTCondor held it", any=[reason[:40]]))
        forbidden.append(Forbidden(claim="it was not held", pattern=r"\bnot (been )?held\b"))
    # the line the job_state tool quotes: its stdout's first, else its stderr's last (its head,
    # as for the held reason: a two-sentence explanation cannot quote a 160-character line)
    m = re.search(r"(stdout|stderr): (['\"])(.+?)\2(;|$)", st.summary)
    if m:
        facts.append(Fact(fact=f"its {m.group(1)} line", any=[m.group(3)[:40]]))
    forbidden.append(
        Forbidden(
            claim="resource contention caused it (a recorded failure, not a measured slowdown)",
            pattern=r"\b(cpu|disk|i/o|hdd) contention\b",
        )
    )
    return facts, forbidden


def _by_tool(results: list[RecordedResult]) -> dict[str, ToolResult]:
    return {r.result.tool: r.result for r in results}


def expectations(
    results: list[RecordedResult], decision: Decision
) -> tuple[list[Fact], list[Forbidden], list[str]]:
    """(must_mention, must_not_claim, situation tags) from the recorded findings and the verdict
    the tools reach on them. What a faithful explanation must state is what the tools found,
    not the ground truth: a job the tools call normal is not explained as a disk anomaly."""
    tools = _by_tool(results)
    facts, forbidden = state_expectations(results)
    tags: list[str] = ["recorded-state"] if facts else []
    if decision.is_anomalous and decision.anomaly_class and not facts:
        kind = decision.anomaly_class.split("_")[0]
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
    if run.labels is None and run.status is None:
        raise FlowsleuthError(f"{run.source}: the run has no labels; eval cases need the truth")
    subject = kit.subject(run).for_job(job_id)
    if run.labels is None:
        truth = recorded_truth(run, job_id)
    else:
        label = run.label_of(job_id)
        truth = Expected(
            is_anomalous=bool(label and label.is_anomalous), anomaly_class=label.raw if label else "None"
        )
    decision = decide([r.result for r in recorded], kit.fusion.for_workflow(run.workflow), subject.job.host)
    facts, forbidden, situation = expectations(recorded, decision)
    folder = root / name
    ref = run_reference(run, folder)
    if not ref:
        if run.labels is None:
            raise FlowsleuthError(f"{run.source}: no file to refer to (record from a submit directory or DB)")
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
