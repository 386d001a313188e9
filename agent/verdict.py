"""The structured verdict of one investigation, and the only thing an LLM writes (Narrative)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flowsleuth.workflows.contract import Finding
from flowsleuth.workflows.text import without_controls
from pydantic import AfterValidator, BaseModel, Field

# What an LLM writes is ours to print: a reply's escape sequences and bidi controls are dropped.
LLMText = Annotated[str, AfterValidator(without_controls)]


class EvidenceItem(BaseModel):
    tool: str = Field(description="the tool that computed the number")
    name: str = Field(description="what the number measures")
    value: float
    unit: str | None = None
    note: str = Field(default="", description="the tool's one-line summary")


class BackendInfo(BaseModel):
    name: str = Field(description="the LLM backend and model, or 'none'")
    llm_used: bool
    reason: str | None = Field(default=None, description="why the LLM was not used, when it was not")


class Verdict(BaseModel):
    job_id: str
    run_id: str
    workflow: str
    is_anomalous: bool
    score: float | None = Field(description="calibrated P(anomalous) fused from the tools")
    anomaly_class: str = Field(description="'None' when normal; else e.g. 'cpu_3', 'hdd', 'unknown'")
    culprit: str | None = Field(description="the host most likely at fault")
    confidence: Literal["low", "medium", "high"]
    tier: str | None = Field(
        default=None,
        description="what the verdict rests on: 'trained (known workflow)', 'zero-shot', "
        "'history (n runs)' or 'labelled (n runs)'",
    )
    evidence: list[EvidenceItem]
    findings: list[Finding] = Field(
        default_factory=list, description="what the explanation may cite (F1, F2...)"
    )
    explanation: str = Field(description="a few sentences a person can act on")
    reasoning: str = Field(description="the chain of thought over the evidence")
    backend: BackendInfo
    examples: list[dict[str, Any]] = Field(default_factory=list, description="few-shot examples used")


class BriefNarrative(BaseModel):
    """What a compact (small, local) model is asked for: the explanation only. Its reasoning
    was noise, and generating it cost more than half of the investigation's time."""

    # The decoder stops after two sentences: a 135M model's third was never better.
    explanation: LLMText = Field(
        max_length=300,
        description="two short sentences for an operator, quoting the evidence",
        json_schema_extra={"max_sentences": 2},
    )


class Narrative(BaseModel):
    """What the LLM is asked for: prose only. Every number in it must come from the evidence."""

    # Length caps let a server's JSON-schema decoding close the object within max_tokens.
    reasoning: LLMText = Field(
        max_length=900, description="step-by-step reasoning over the evidence, quoting only its numbers"
    )
    explanation: LLMText = Field(
        max_length=600, description="two to four sentences for an operator: what is wrong and what to check"
    )
