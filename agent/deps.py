"""What the graph's nodes use but the graph state does not hold: the run, tools, scores, LLM."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowsleuth.agent.llm.base import LLMBackend
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.decision.score import RunScores, score_run
from flowsleuth.tools.registry import Registry
from flowsleuth.workflows.contract import Subject

FewShot = Callable[[Subject, int], list[dict[str, Any]]]
DEFAULT_MAX_STEPS = 2
DEFAULT_N_EXAMPLES = 4


@dataclass(frozen=True)
class Deps:
    """LangGraph runtime context of one investigation (shared by every job of a run).

    ``scores`` is the run's one scoring pass (:func:`tools.decision.score.score_run`): the
    verdict of every job is read from it, exactly as triage reads its rows."""

    subject: Subject
    registry: Registry
    scores: RunScores
    llm: LLMBackend | None = None
    few_shot: FewShot | None = None
    max_steps: int = DEFAULT_MAX_STEPS
    n_examples: int = DEFAULT_N_EXAMPLES
    check_claims: bool = True  # sentence-level claim checking (agent.claims); off: numbers only

    @classmethod
    def build(
        cls,
        subject: Subject,
        registry: Registry,
        fusion: Fusion | None = None,
        *,
        llm: LLMBackend | None = None,
        few_shot: FewShot | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        n_examples: int = DEFAULT_N_EXAMPLES,
        check_claims: bool = True,
    ) -> Deps:
        """Score the subject's run once (``fusion``: the run's workflow's; unfitted when None).

        A subject with a job keeps it as the focus: a source that costs per job (the SFT
        encoder) may score that job alone, with the run as its context."""
        subject = subject.warmed()
        scores = score_run(registry, subject, fusion or Fusion())
        return cls(subject, registry, scores, llm, few_shot, max_steps, n_examples, check_claims)
