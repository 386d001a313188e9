"""Replay eval cases through the investigation graph and score each explanation.

Per case: verdict agreement (the tools' fused verdict against the ground truth), ``must_mention``
recall and ``must_not_claim`` violations over the *prose* (the explanation after the verdict's
headline, which the tools write), the unsupported-claim rate before validation (the LLM's first
draft) and after (what the user sees), latency and tokens.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Sequence
from typing import Any

from flowsleuth.agent.claims import ClaimContext, check
from flowsleuth.agent.deps import Deps
from flowsleuth.agent.evals.case import EvalCase
from flowsleuth.agent.evals.replay import replay_registry
from flowsleuth.agent.explain import headline
from flowsleuth.agent.graph import build_graph, claim_context
from flowsleuth.agent.llm.base import LLMBackend, M
from flowsleuth.tools.decision.decide import Decision
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.sample import bundled_dag
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel


class CaseOutcome(BaseModel):
    case: str
    tags: list[str]
    verdict_agrees: bool
    class_agrees: bool | None  # None unless both the truth and the verdict are anomalous
    mentioned: int
    must_mention: int
    violations: list[str]
    sentences_before: int
    unsupported_before: int
    sentences_after: int
    unsupported_after: int
    flagged_before: list[str]  # the draft's unsupported sentences, with why
    llm_used: bool
    latency_s: float
    prompt_tokens: int
    completion_tokens: int
    explanation: str


class _Counting(LLMBackend):
    """Delegates to an LLM backend and sums the usage of every narration (a retry included)."""

    def __init__(self, inner: LLMBackend) -> None:
        super().__init__()
        self._inner = inner
        self.name, self.supports_tools, self.compact = inner.name, inner.supports_tools, inner.compact
        self.regenerate = inner.regenerate
        self.prompt_tokens = 0
        self.completion_tokens = 0

    @property
    def chat_model(self) -> BaseChatModel:
        return self._inner.chat_model

    def begin(self) -> None:
        self._inner.begin()

    def narrate(self, prompt_messages: Sequence[BaseMessage], schema: type[M]) -> M:
        try:
            return self._inner.narrate(prompt_messages, schema)
        finally:
            usage = self._inner.usage
            self.prompt_tokens += usage.prompt_tokens
            self.completion_tokens += usage.completion_tokens


def prose(explanation: str, state: dict[str, Any]) -> str:
    """The explanation without the tools' headline: what the LLM (or the plain composer) wrote."""
    head = headline(state["job_id"], state["job"]["host"], Decision(**state["decision"]))
    return explanation.removeprefix(head).strip()


def _count(text: str, ctx: ClaimContext) -> tuple[int, int, list[str]]:
    checks = check(text, ctx)
    bad = [c for c in checks if not c.supported]
    return len(checks), len(bad), [f"{c.sentence} <- {'; '.join(c.problems)}" for c in bad]


def run_case(
    case: EvalCase, llm: LLMBackend | None, fusion: Fusion, *, check_claims: bool = True, max_steps: int = 0
) -> CaseOutcome:
    run = case.load_run()
    subject = Subject(run, dag=bundled_dag(run.workflow))
    counting = _Counting(llm) if llm is not None else None
    deps = Deps.build(
        subject.for_job(case.job_id),
        replay_registry(case.results()),
        fusion,
        llm=counting,
        max_steps=max_steps,
        check_claims=check_claims,
    )
    start = time.perf_counter()
    state: Any = build_graph().compile().invoke({"job_id": case.job_id}, context=deps)
    latency = time.perf_counter() - start
    verdict = state["verdict"]
    ctx = claim_context(state)
    shown = prose(verdict.explanation, state)
    drafts = state.get("drafts") or [shown]
    n_before, bad_before, flagged = _count(drafts[0], ctx)
    n_after, bad_after, _ = _count(shown, ctx)
    truth = case.expected
    mentioned = sum(any(a.lower() in shown.lower() for a in f.any) for f in case.must_mention)
    violations = [f.claim for f in case.must_not_claim if re.search(f.pattern, shown, re.IGNORECASE)]
    return CaseOutcome(
        case=case.name,
        tags=case.tags,
        verdict_agrees=verdict.is_anomalous == truth.is_anomalous,
        class_agrees=(
            verdict.anomaly_class.split("_")[0] == truth.anomaly_class.split("_")[0]
            if verdict.is_anomalous and truth.is_anomalous
            else None
        ),
        mentioned=mentioned,
        must_mention=len(case.must_mention),
        violations=violations,
        sentences_before=n_before,
        unsupported_before=bad_before,
        sentences_after=n_after,
        unsupported_after=bad_after,
        flagged_before=flagged,
        llm_used=verdict.backend.llm_used,
        latency_s=round(latency, 3),
        prompt_tokens=counting.prompt_tokens if counting else 0,
        completion_tokens=counting.completion_tokens if counting else 0,
        explanation=verdict.explanation,
    )


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def summarise(outcomes: Sequence[CaseOutcome]) -> dict[str, Any]:
    """One row: the totals over ``outcomes``."""
    lat = [o.latency_s for o in outcomes]
    classed = [o.class_agrees for o in outcomes if o.class_agrees is not None]
    n = len(outcomes)
    return {
        "cases": n,
        "verdict_agreement": _rate(sum(o.verdict_agrees for o in outcomes), n),
        "class_agreement": _rate(sum(classed), len(classed)),
        "must_mention_recall": _rate(
            sum(o.mentioned for o in outcomes), sum(o.must_mention for o in outcomes)
        ),
        "must_not_claim_violations": sum(len(o.violations) for o in outcomes),
        "unsupported_rate_before": _rate(
            sum(o.unsupported_before for o in outcomes), sum(o.sentences_before for o in outcomes)
        ),
        "unsupported_rate_after": _rate(
            sum(o.unsupported_after for o in outcomes), sum(o.sentences_after for o in outcomes)
        ),
        "llm_used": sum(o.llm_used for o in outcomes),
        "latency_p50_s": round(statistics.median(lat), 3) if lat else None,
        "latency_p90_s": round(statistics.quantiles(lat, n=10)[-1], 3) if len(lat) >= 2 else None,
        "prompt_tokens_mean": round(statistics.mean(o.prompt_tokens for o in outcomes), 1) if n else None,
        "completion_tokens_mean": round(statistics.mean(o.completion_tokens for o in outcomes), 1)
        if n
        else None,
    }
