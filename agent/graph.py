"""The investigation graph: evidence first, then the LLM explains what the tools decided.

load -> retrieve -> score -> hints -> [ask -> tools -> collect]* -> fuse -> reason -> verdict -> validate
                                                                           ^___________________|  (once)

The score and the class come from the run's one scoring pass (``Deps.scores``), exactly as in
triage; the tool loop and the LLM add evidence and words, never the verdict.
"""

from __future__ import annotations

from typing import Any, Literal

from flowsleuth.agent import tool_loop
from flowsleuth.agent.claims import ClaimContext, check, keep_supported, sentences
from flowsleuth.agent.deps import Deps
from flowsleuth.agent.evidence import allowed_numbers, evidence_items, numbered_findings
from flowsleuth.agent.explain import headline, plain_explanation
from flowsleuth.agent.prompts import compact_messages, reasoning_messages
from flowsleuth.agent.state import InvestigationInput, InvestigationState
from flowsleuth.agent.validate import strip_unbacked, unbacked
from flowsleuth.agent.verdict import BackendInfo, BriefNarrative, Narrative, Verdict
from flowsleuth.tools.decision.decide import Decision, decision_numbers
from flowsleuth.tools.job_state import quoted_lines, recorded_state
from flowsleuth.workflows.contract import ToolResult
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

_WITHHELD = "The explanation made claims no tool found and was withheld; see the evidence."
MAX_NARRATIONS = 2  # the first try, plus one regeneration after a failed validation


def load(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    job = runtime.context.subject.for_job(state["job_id"]).job  # raises UnknownJobError early
    return {"job": job.model_dump(mode="json", exclude={"label"}), "steps": 0, "attempts": 0}


def retrieve(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    subject = deps.subject.for_job(state["job_id"])
    examples: list[dict[str, Any]] = []
    results: list[ToolResult] = []
    if deps.few_shot is not None and deps.n_examples > 0:
        try:
            examples = deps.few_shot(subject, deps.n_examples)
        except Exception as err:  # retrieval is optional evidence; say why it is missing
            results.append(ToolResult.failed("few_shot", f"{type(err).__name__}: {err}"))
    return {"examples": examples, "results": results}


def score(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """The job's results from the run's one scoring pass (the same triage reads)."""
    return {"results": runtime.context.scores.job_results(state["job_id"])}


def hints(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """Hint tools only: the ``state`` tools already ran in the scoring pass (see :func:`score`)."""
    subject = runtime.context.subject.for_job(state["job_id"])
    return {"results": runtime.context.registry.run_all(subject, kinds=("hint",))}


def after_hints(state: InvestigationState, runtime: Runtime[Deps]) -> Literal["ask", "fuse"]:
    llm = runtime.context.llm
    use_loop = llm is not None and llm.supports_tools and runtime.context.max_steps > 0
    return "ask" if use_loop else "fuse"


def fuse(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """The job's decision from the run's scoring pass: what triage reports for it, too."""
    return {"decision": runtime.context.scores.decisions[state["job_id"]].model_dump()}


def reason(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    llm = runtime.context.llm
    attempts = state.get("attempts", 0) + 1
    if llm is None:
        return {
            "narrative": None,
            "attempts": attempts,
            "llm_error": "no LLM backend (--backend none)",
        }
    feedback = ", ".join(state.get("rejected") or []) or None
    decision = Decision(**state["decision"])
    results = state.get("results", [])
    schema: type[Narrative | BriefNarrative]
    if llm.compact:  # a small model: short prompt, explanation only
        messages = compact_messages(state["job"], decision, results, feedback)
        schema = BriefNarrative
    else:
        messages = reasoning_messages(state["job"], decision, results, state.get("examples", []), feedback)
        schema = Narrative
    try:
        narrative = llm.narrate(messages, schema)
    except Exception as err:  # timeout, server down, junk: the verdict never depends on the LLM
        return {
            "narrative": None,
            "attempts": attempts,
            "llm_error": f"{type(err).__name__}: {err}",
        }
    return {"narrative": narrative, "attempts": attempts, "llm_error": None}


def _identifiers(state: InvestigationState) -> list[str]:
    job = state["job"]
    decision = state.get("decision") or {}
    ids = [str(job.get(k) or "") for k in ("node_id", "run_id", "workflow", "transformation", "host")]
    ids += [str(decision.get(k) or "") for k in ("anomaly_class", "culprit")]
    return ids + _recorded_texts(state.get("results", []))


def _recorded_texts(results: list[ToolResult]) -> list[str]:
    """The job's own words as Pegasus recorded them (held reason, output lines), sentence by
    sentence: quoted, their digits are data (an errno, a path), not claims about the job."""
    data = recorded_state(results) or {}
    if not data:
        return []
    texts = [str(data.get(k) or "") for k in ("held_reason", "stdout_tail", "stderr_tail")]
    lines = [line.strip() for t in texts for line in t.splitlines() if line.strip()]
    lines += [q for q in quoted_lines(data) if q]  # as the findings quote them (cut to a width)
    return lines + [p.strip() for line in lines for p in sentences(line) if p.strip()]


def verdict(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    decision = Decision(**state["decision"])
    results = state.get("results", [])
    narrative = state.get("narrative")
    llm = runtime.context.llm
    if narrative is None:
        explanation, reasoning = plain_explanation(state["job_id"], state["job"]["host"], decision, results)
        backend = BackendInfo(
            name=llm.name if llm is not None else "none", llm_used=False, reason=state.get("llm_error")
        )
    else:
        # The tool-computed verdict leads; the LLM's narration follows it.
        explanation = headline(state["job_id"], state["job"]["host"], decision) + " " + narrative.explanation
        if isinstance(narrative, Narrative):
            reasoning = narrative.reasoning
        else:  # a compact backend writes no reasoning: the evidence, listed, stands for it
            reasoning = plain_explanation(state["job_id"], state["job"]["host"], decision, results)[1]
        backend = BackendInfo(name=llm.name if llm is not None else "unknown", llm_used=True)
    job = state["job"]
    v = Verdict(
        job_id=state["job_id"],
        run_id=job["run_id"],
        workflow=job["workflow"],
        is_anomalous=decision.is_anomalous,
        score=decision.score,
        anomaly_class=decision.anomaly_class,
        culprit=decision.culprit,
        confidence=decision.confidence,
        tier=decision.tier,
        evidence=evidence_items(results),
        findings=numbered_findings(results),
        explanation=explanation,
        reasoning=reasoning,
        backend=backend,
        examples=state.get("examples", []),
    )
    return {"verdict": v}


def claim_context(state: InvestigationState) -> ClaimContext:
    """What the narration of ``state`` may rest on (the findings, numbers and identifiers)."""
    results = state.get("results", [])
    numbers = decision_numbers(Decision(**state["decision"]))
    return ClaimContext(
        findings=numbered_findings(results),
        allowed=allowed_numbers(results, numbers),
        verdict_numbers=numbers,
        identifiers=_identifiers(state),
    )


def _problems(text: str, state: InvestigationState, claims: bool) -> list[str]:
    if claims:
        return [p for c in check(text, claim_context(state)) for p in c.problems]
    allowed = allowed_numbers(state.get("results", []), decision_numbers(Decision(**state["decision"])))
    return unbacked(text, allowed, _identifiers(state))


def _strip(text: str, state: InvestigationState, claims: bool) -> str:
    if claims:
        return keep_supported(text, claim_context(state))[0]
    allowed = allowed_numbers(state.get("results", []), decision_numbers(Decision(**state["decision"])))
    return strip_unbacked(text, allowed, _identifiers(state))


def validate(state: InvestigationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """Check the narration sentence by sentence (:mod:`agent.claims`; numbers only when
    ``Deps.check_claims`` is off): ask once for a new one, then drop what is unsupported."""
    v = state["verdict"]
    narrative = state.get("narrative")
    if narrative is None or not v.backend.llm_used:
        return {"rejected": []}
    claims = runtime.context.check_claims
    llm_wrote_reasoning = isinstance(narrative, Narrative)
    written = narrative.explanation
    if isinstance(narrative, Narrative):
        written += "\n" + narrative.reasoning
    bad = _problems(written, state, claims)
    drafts = {"drafts": [narrative.explanation]}
    if not bad:
        return {"rejected": [], **drafts}
    llm = runtime.context.llm
    tries = MAX_NARRATIONS if llm is None or llm.regenerate else 1
    if state.get("attempts", 0) < tries:
        return {"rejected": bad, **drafts}
    kept = _strip(narrative.explanation, state, claims)
    head = headline(state["job_id"], state["job"]["host"], Decision(**state["decision"]))
    cleaned = v.model_copy(
        update={
            "explanation": head + " " + (kept or _WITHHELD),
            "reasoning": _strip(v.reasoning, state, claims) if llm_wrote_reasoning else v.reasoning,
            "backend": v.backend.model_copy(
                update={"reason": f"removed unsupported sentences: {'; '.join(bad)}"}
            ),
        }
    )
    return {"verdict": cleaned, "rejected": [], **drafts}


def after_validate(state: InvestigationState) -> Literal["reason", "__end__"]:
    return "reason" if state.get("rejected") else "__end__"


def build_graph() -> StateGraph[InvestigationState, Deps, InvestigationInput, InvestigationState]:
    g = StateGraph(InvestigationState, context_schema=Deps, input_schema=InvestigationInput)
    g.add_node("load", load)
    g.add_node("retrieve", retrieve)
    g.add_node("score", score)
    g.add_node("hints", hints)
    g.add_node("ask", tool_loop.ask)
    g.add_node("tools", tool_loop.tools)
    g.add_node("collect", tool_loop.collect)
    g.add_node("fuse", fuse)
    g.add_node("reason", reason)
    g.add_node("verdict", verdict)
    g.add_node("validate", validate)
    g.add_edge(START, "load")
    g.add_edge("load", "retrieve")
    g.add_edge("retrieve", "score")
    g.add_edge("score", "hints")
    g.add_conditional_edges("hints", after_hints)
    g.add_conditional_edges("ask", tool_loop.route)
    g.add_edge("tools", "collect")
    g.add_edge("collect", "ask")
    g.add_edge("fuse", "reason")
    g.add_edge("reason", "verdict")
    g.add_edge("verdict", "validate")
    g.add_conditional_edges("validate", after_validate)
    return g


graph = build_graph().compile(name="flowsleuth-investigation")
"""The compiled graph, at module level for LangGraph's own tooling (``langgraph.json``)."""
