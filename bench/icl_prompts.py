"""In-context-learning prompts of the paper (Jin et al., SC'24), for the ICL replication bench.

Four modes: ``zero_shot`` (instruction only), ``few_shot`` (instruction + per-class mean ± std of
each feature + 3 static examples), ``dynamic`` (the same, examples retrieved for each job by a
caller-supplied function, e.g. the Chroma index), ``cot`` (few-shot + "think step-by-step", the
reasoning written before the label). The LLM's own label is the classifier here: the answer is
the ``label`` field of :class:`IclAnswer` (schema-constrained) or, for free text, :func:`parse_label`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from flowsleuth.workflows.schema import PAPER_FEATURES
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

IclMode = Literal["zero_shot", "few_shot", "dynamic", "cot"]
MODES: tuple[IclMode, ...] = ("zero_shot", "few_shot", "dynamic", "cot")
Label = Literal["normal", "abnormal"]

SYSTEM = (
    "You are a system administrator of a computing cluster that runs scientific workflows. "
    "Each job is described by nine measurements: wms_delay, queue_delay, runtime, "
    "post_script_delay, stage_in_delay and stage_out_delay (seconds), stage_in_bytes and "
    "stage_out_bytes, and kickstart_executables_cpu_time (seconds). Some jobs ran on a node "
    "whose CPU cores were blocked or whose disk was throttled; those jobs are abnormal. "
    "Classify each job as normal or abnormal."
)


class IclExample(BaseModel):
    text: str = Field(description="the job as the paper's sentence")
    label: int = Field(description="0 normal, 1 abnormal")


class IclAnswer(BaseModel):
    label: Label = Field(description="normal or abnormal")


class IclCotAnswer(BaseModel):
    reasoning: str = Field(description="step-by-step comparison of the job with the statistics")
    label: Label = Field(description="normal or abnormal")


Retriever = Callable[[str, int], Sequence[IclExample]]

_PAIR = re.compile(r"(\w+) is (\S+)")


def parse_sentence(text: str) -> dict[str, float]:
    """``{feature: value}`` from a paper sentence (``nan`` stays NaN)."""
    return {name: float(value) for name, value in _PAIR.findall(text)}


@dataclass
class ClassStats:
    """Per-class mean and std of each paper feature (NaNs ignored)."""

    rows: dict[int, dict[str, tuple[float, float]]]

    @classmethod
    def from_examples(cls, examples: Sequence[IclExample]) -> ClassStats:
        rows: dict[int, dict[str, tuple[float, float]]] = {}
        for label in (0, 1):
            feats = [parse_sentence(e.text) for e in examples if e.label == label]
            if not feats:
                continue
            rows[label] = {}
            for name in PAPER_FEATURES:
                values = np.array([f.get(name, np.nan) for f in feats], dtype=float)
                if np.isfinite(values).any():
                    rows[label][name] = (float(np.nanmean(values)), float(np.nanstd(values)))
        return cls(rows)

    def render(self) -> str:
        lines = []
        for label, name in ((0, "normal"), (1, "abnormal")):
            parts = [f"{f} {m:.4g} ± {s:.4g}" for f, (m, s) in self.rows.get(label, {}).items()]
            lines.append(f"{name} jobs: " + ", ".join(parts))
        return "\n".join(lines)


def static_examples(pool: Sequence[IclExample], k: int = 3, seed: int = 0) -> list[IclExample]:
    """``k`` examples drawn with a fixed seed, both classes present when the pool has both."""
    rng = np.random.default_rng(seed)
    by_label = {lab: [e for e in pool if e.label == lab] for lab in (0, 1)}
    want = {0: k - k // 2, 1: k // 2} if by_label[1] else {0: k, 1: 0}
    picked = []
    for lab, n in want.items():
        items = by_label[lab]
        for i in rng.choice(len(items), size=min(n, len(items)), replace=False):
            picked.append(items[int(i)])
    return [picked[int(i)] for i in rng.permutation(len(picked))]


def _word(label: int) -> str:
    return "abnormal" if label else "normal"


@dataclass
class IclPrompter:
    """Builds the messages for one job in one mode."""

    mode: IclMode
    stats: ClassStats | None = None
    examples: list[IclExample] = field(default_factory=list)
    retrieve: Retriever | None = None
    k: int = 3

    def __post_init__(self) -> None:
        if self.mode != "zero_shot" and self.stats is None:
            raise ValueError(f"mode {self.mode} needs class statistics")
        if self.mode == "dynamic" and self.retrieve is None:
            raise ValueError("mode dynamic needs a retrieve(text, k) function")

    @property
    def schema(self) -> type[BaseModel]:
        return IclCotAnswer if self.mode == "cot" else IclAnswer

    def shots(self, sentence: str) -> list[IclExample]:
        if self.mode == "zero_shot":
            return []
        if self.mode == "dynamic" and self.retrieve is not None:
            return list(self.retrieve(sentence, self.k))
        return self.examples[: self.k]

    def messages(self, sentence: str) -> list[BaseMessage]:
        parts = []
        if self.stats is not None and self.mode != "zero_shot":
            parts.append("Statistics of labelled jobs (mean ± std):\n" + self.stats.render())
        shots = self.shots(sentence)
        if shots:
            parts.append(
                "Examples:\n" + "\n".join(f"Job: {e.text.strip()}\nAnswer: {_word(e.label)}" for e in shots)
            )
        parts.append(f"Job: {sentence.strip()}")
        if self.mode == "cot":
            parts.append(
                "Think step-by-step: compare the job's measurements with the statistics, "
                "then answer normal or abnormal."
            )
        else:
            parts.append("Answer with one word: normal or abnormal.")
        return [SystemMessage(content=SYSTEM), HumanMessage(content="\n\n".join(parts))]


_ANSWER = re.compile(r"(?:answer|label|classification|verdict)\W{0,5}(not\s+)?(ab)?normal")
_WORD = re.compile(r"\b(not\s+|non-?)?(abnormal|anomalous|anomaly|normal)\b")


def parse_label(text: str) -> Label | None:
    """The label in a free-text reply, or None when it names neither class.

    An explicit "answer/label: X" wins; otherwise the last class word counts, with a
    preceding "not" flipping it ("not abnormal" is normal)."""
    low = text.lower()
    hit = _ANSWER.findall(low)
    if hit:
        negated, ab = hit[-1]
        return "abnormal" if bool(ab) != bool(negated) else "normal"
    words = _WORD.findall(low)
    if not words:
        return None
    negated, word = words[-1]
    abnormal = word != "normal"
    return "abnormal" if abnormal != bool(negated) else "normal"
