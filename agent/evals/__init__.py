"""Explanations, measured: eval cases as folders (recorded tool results, expected verdict,
facts to mention, claims not to make) and a runner that replays them through the agent."""

from flowsleuth.agent.evals.case import EvalCase, load_cases
from flowsleuth.agent.evals.runner import CaseOutcome, run_case, summarise

__all__ = ["CaseOutcome", "EvalCase", "load_cases", "run_case", "summarise"]
