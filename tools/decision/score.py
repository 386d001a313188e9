"""The one scoring path: every score source of the registry on every job of a run, fused.

``triage`` rows and ``why`` verdicts are both read from :func:`score_run`'s :class:`RunScores`,
so a plugin score tool, a tool's time limit and the class choice apply to both alike, and a
triage row and the verdict on the same job cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from flowsleuth.tools.decision.decide import Decision, decide
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.registry import Registry
from flowsleuth.workflows.contract import RunResults, Subject, ToolResult, ToolStatus

SCORE_KINDS: tuple[str, ...] = ("score", "retrieval", "diagnosis")
"""The tool kinds whose ``data.score`` feeds the fused decision."""


@dataclass(frozen=True)
class RunScores:
    """Each score source's result for every job of one run, and each job's decision.

    Read-only, computed once per run: it is the per-run cache every later step reads (the
    verdict of any job, the triage rows, the LLM tool loop asking for a score again)."""

    run_id: str
    by_tool: Mapping[str, RunResults]
    decisions: Mapping[str, Decision]
    threshold: float

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


def score_run(registry: Registry, subject: Subject, fusion: Fusion) -> RunScores:
    """Run every score source (kinds :data:`SCORE_KINDS`) on the whole run, then decide each
    job with ``fusion`` (already the one for the run's workflow)."""
    run = subject.run
    by_tool = registry.run_batch(subject, SCORE_KINDS)
    hosts = run.frame["kickstart_hostname"].astype(str)
    decisions = {
        job: decide([r.jobs[job] for r in by_tool.values()], fusion, str(hosts.at[job]))
        for job in run.job_ids
    }
    return RunScores(run.run_id, by_tool, decisions, fusion.threshold)
