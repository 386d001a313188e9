"""The one scoring path: every score source of the registry on every job of a run, fused.

``triage`` rows and ``why`` verdicts are both read from :func:`score_run`'s :class:`RunScores`,
so a plugin score tool, a tool's time limit, the class choice and the choice of fusion (the
workflow's own fit, or the generalist's tier for a workflow without one) apply to both alike,
and a triage row and the verdict on the same job cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from flowsleuth.tools.decision.decide import GENERALIST, Decision, decide
from flowsleuth.tools.decision.fusion import Fusion, _Logistic
from flowsleuth.tools.registry import Registry
from flowsleuth.workflows.contract import RunResults, Subject, ToolResult, ToolStatus
from flowsleuth.workflows.names import canonical_workflow

SCORE_KINDS: tuple[str, ...] = ("score", "retrieval", "diagnosis", "state")
"""The tool kinds whose results feed the decision: ``data.score`` is fused; a ``state`` tool
(what the workflow system recorded, e.g. ``job_state``) can settle it first (see ``decide``)."""


@dataclass(frozen=True)
class RunScores:
    """Each score source's result for the jobs of one run, and each job's decision.

    Read-only, computed once per run: it is the per-run cache every later step reads (the
    verdict of any job, the triage rows, the LLM tool loop asking for a score again). A subject
    focused on one job (``why``) holds that job alone."""

    run_id: str
    by_tool: Mapping[str, RunResults]
    decisions: Mapping[str, Decision]
    fusion: Fusion

    @property
    def threshold(self) -> float:
        return self.fusion.threshold

    @property
    def generalist_leads(self) -> bool:
        """True when the workflow has no fit of its own and the generalist's score decides."""
        return GENERALIST in self.fusion.sources

    @property
    def notes(self) -> list[str]:
        """What the user should know about how the run was scored: each source's run-level
        ``data["run_notes"]`` (e.g. the feature set a run's columns allow), and what the
        verdicts lack (e.g. a workflow with no history yet) when the generalist decides."""
        out: list[str] = []
        for name in self.by_tool:
            r = self.run_result(name)
            if r is not None:
                out += [str(n) for n in r.data.get("run_notes", [])]
        gen = self.run_result(GENERALIST) if self.generalist_leads else None
        return out + ([str(n) for n in gen.data.get("notes", [])] if gen is not None else [])

    def job_results(self, job_id: str) -> list[ToolResult]:
        """The job's result from every source, in registration order."""
        return [r.jobs[job_id] for r in self.by_tool.values() if job_id in r.jobs]

    def job_result(self, tool: str, job_id: str) -> ToolResult | None:
        out = self.by_tool.get(tool)
        return None if out is None else out.jobs.get(job_id)

    def run_result(self, tool: str) -> ToolResult | None:
        """The tool's whole-run result, when it gave one and it succeeded."""
        out = self.by_tool.get(tool)
        run = None if out is None else out.run
        return run if run is not None and run.status is ToolStatus.OK else None

    def source_frame(self) -> pd.DataFrame:
        """Job x source frame of each source's own score (NaN where a source gave none)."""
        rows = {job: d.sources for job, d in self.decisions.items()}
        return pd.DataFrame.from_dict(rows, orient="index", dtype=float).reindex(list(self.decisions))


def generalist_fusion(threshold: float) -> Fusion:
    """A fusion that passes the generalist score through unchanged, deciding at ``threshold``:
    the other sources stay in the evidence but do not move the verdict."""
    identity = _Logistic(sources=[GENERALIST], coef=[1.0], intercept=0.0)
    return Fusion(
        sources=[GENERALIST], models={GENERALIST: identity}, threshold=threshold, fitted_on="generalist"
    )


def route(fusion: Fusion, workflow: str, by_tool: Mapping[str, RunResults]) -> Fusion:
    """The fusion that decides this run: the workflow's own fit when ``fusion`` has one (the
    paper workflows, where it is measured to be better), else the generalist's score at its
    own threshold when the generalist judged the run, else ``fusion``'s default."""
    gen = by_tool.get(GENERALIST)
    judged = gen.run if gen is not None else None
    if (
        canonical_workflow(workflow) in fusion.workflows
        or judged is None
        or judged.status is not ToolStatus.OK
    ):
        return fusion.for_workflow(workflow)
    return generalist_fusion(float(judged.data["threshold"]))


def score_run(registry: Registry, subject: Subject, fusion: Fusion) -> RunScores:
    """Run every score source (kinds :data:`SCORE_KINDS`) on the subject's focus jobs (the whole
    run, or its one job), pick the run's fusion (:func:`route`), then decide each job."""
    return _decided(subject, registry.run_batch(subject, SCORE_KINDS), fusion)


def score_runs(registry: Registry, subjects: Sequence[Subject], fusion: Fusion) -> list[RunScores]:
    """:func:`score_run` of each subject (a batch of small runs), each source run once for the
    batch where it can (:meth:`Registry.run_batches`): the same scores, at less cost per run."""
    answers = registry.run_batches(subjects, SCORE_KINDS)
    return [_decided(s, by_tool, fusion) for s, by_tool in zip(subjects, answers, strict=True)]


def _decided(subject: Subject, by_tool: dict[str, RunResults], fusion: Fusion) -> RunScores:
    run = subject.run
    chosen = route(fusion, run.workflow, by_tool)
    column = run.frame["kickstart_hostname"].astype(str)
    hosts = dict(zip(column.index, column.tolist(), strict=True))  # a dict: ``.at`` per job costs more
    decisions = {
        job: decide([r.jobs[job] for r in by_tool.values() if job in r.jobs], chosen, str(hosts[job]))
        for job in subject.focus_jobs
    }
    return RunScores(run.run_id, by_tool, decisions, chosen)
