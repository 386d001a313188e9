"""The guided decoder keeps text fields within the schema's max_length (else pydantic rejects them)."""

from __future__ import annotations

from flowsleuth.agent.llm.constrained import _fit, plan_for
from flowsleuth.agent.verdict import Narrative


def test_plans_carry_the_schema_caps() -> None:
    caps = {p.name: p.max_length for p in plan_for(Narrative)}
    assert caps == {"reasoning": 900, "explanation": 600}


def test_fit_cuts_at_the_last_sentence_inside_the_cap() -> None:
    text = "The disk is slow. " * 50
    cut = _fit(text, 600)
    assert len(cut) <= 600 and cut.endswith("slow.")
    Narrative(reasoning="r", explanation=cut)  # validates
    assert _fit("short.", 600) == "short."
    assert _fit("word " * 40, 23) == "word word word word"
