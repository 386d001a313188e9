"""What the graph's nodes use but the graph state does not hold: the run, tools, scores, LLM."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flowsleuth.agent.llm.base import LLMBackend
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.decision.score import RunScores, score_run, score_runs
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

    @classmethod
    def build_many(
        cls, subjects: Sequence[Subject], registry: Registry, fusion: Fusion | None = None, **kw: Any
    ) -> list[Deps]:
        """:meth:`build` of each subject, scored as one batch (small runs): the same scores,
        each source run once for the batch where it can (:func:`score_runs`)."""
        from flowsleuth.tools.registry.batches import warm_all

        subjects = warm_all(subjects)
        scores = score_runs(registry, subjects, fusion or Fusion())
        fields = {k: kw[k] for k in ("llm", "few_shot", "max_steps", "n_examples", "check_claims") if k in kw}
        return [cls(s, registry, sc, **fields) for s, sc in zip(subjects, scores, strict=True)]
