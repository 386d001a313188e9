"""The guided decoder's logits processors, on a toy vocabulary (no model needed)."""

from __future__ import annotations

import math

import torch
from flowsleuth.agent.llm.processors import CopyNumbers, NoRepeatGenerated, StopAtLength, written_numbers

# A toy vocabulary: single digits and a dot, as in SmolLM2's tokenizer, plus a few words.
VOCAB = [*"0123456789", ".", " ", "x", " ran", " worker", "-", "ID", '"']
IDS = {t: i for i, t in enumerate(VOCAB)}


def _ids(*tokens: str) -> torch.Tensor:
    return torch.tensor([[IDS[t] for t in tokens]])


def _allowed(proc, *tokens: str) -> set[str]:  # type: ignore[no-untyped-def]
    scores = proc(_ids(*tokens), torch.zeros(1, len(VOCAB)))
    return {VOCAB[i] for i in range(len(VOCAB)) if math.isfinite(float(scores[0, i]))}


def test_written_numbers_skip_identifiers() -> None:
    text = "ID0000047 on worker-12 ran 1.86x the median of 96 jobs (p95, cpu_3, p 0.17)"
    assert written_numbers(text) == {"1.86", "96", "0.17"}


def test_copy_numbers_starts_only_allowed_numbers_and_finishes_them() -> None:
    proc = CopyNumbers(VOCAB, start=1, numbers={"1.86", "96"})
    digits = set("0123456789")
    # A number may start only with the first digit of an allowed one; words are free.
    assert _allowed(proc, '"', " ran", " ") & digits == {"1", "9"}
    # Mid-number, only a continuation of an allowed number may follow: no word, no stop.
    assert _allowed(proc, '"', " ", "1") == {"."}
    assert _allowed(proc, '"', " ", "1", ".", "8") == {"6"}
    # A complete number may end (or the text go on), but not grow into an invented one.
    after = _allowed(proc, '"', " ", "1", ".", "8", "6")
    assert "x" in after and " ran" in after and not after & digits


def test_copy_numbers_leaves_identifiers_alone() -> None:
    proc = CopyNumbers(VOCAB, start=1, numbers={"96"})
    assert set("0123456789") <= _allowed(proc, '"', " worker", "-")
    assert set("0123456789") <= _allowed(proc, '"', "ID", "0")


def test_no_repeat_never_bans_the_last_allowed_token() -> None:
    proc = NoRepeatGenerated(start=0, n=2)
    scores = torch.full((1, len(VOCAB)), -math.inf)
    scores[0, IDS["1"]] = 0.0  # the only token left, and it would repeat the bigram "1 1"
    out = proc(_ids("1", "1"), scores)
    assert math.isfinite(float(out[0, IDS["1"]]))
    free = proc(_ids("1", "1"), torch.zeros(1, len(VOCAB)))
    assert not math.isfinite(float(free[0, IDS["1"]]))


def test_stop_at_length_counts_generated_text_only() -> None:
    stop = StopAtLength(VOCAB, start=1, max_chars=8, max_sentences=None)
    assert not bool(stop(_ids('"', " ran", " ran"), None)[0])
    assert bool(stop(_ids('"', " ran", " ran", " ran"), None)[0])


def test_stop_at_length_after_two_sentences_not_at_a_decimal_point() -> None:
    stop = StopAtLength(VOCAB, start=0, max_chars=None, max_sentences=2)
    assert not bool(stop(_ids(" ran", " ", "1", ".", "8", "x", ".", " ran"), None)[0])
    assert bool(stop(_ids(" ran", ".", " ran", ".", " "), None)[0])


def test_brief_narrative_plan_stops_after_two_sentences() -> None:
    from flowsleuth.agent.llm.constrained import plan_for
    from flowsleuth.agent.verdict import BriefNarrative

    (plan,) = plan_for(BriefNarrative)
    assert (plan.kind, plan.max_length, plan.max_sentences) == ("text", 300, 2)


def test_cite_first_opens_each_sentence_with_a_shown_finding_id() -> None:
    from flowsleuth.agent.llm.processors import CiteFirst

    vocab = ["Per", " Per", " F", "1", "2", "5", " the", ",", ".", '"', " ran", " peers"]
    ids = {t: i for i, t in enumerate(vocab)}

    def allowed(*tokens: str) -> set[str]:
        proc = CiteFirst(vocab, 0, ["F1", "F2"], [ids['"']])
        seq = torch.tensor([[ids[t] for t in tokens]], dtype=torch.long).reshape(1, len(tokens))
        scores = proc(seq, torch.zeros(1, len(vocab)))
        return {vocab[i] for i in range(len(vocab)) if math.isfinite(float(scores[0, i]))}

    assert allowed() == {"Per", " Per"}
    assert allowed("Per") == {" F"}
    assert allowed("Per", " F") == {"1", "2"}  # only ids of shown findings
    assert "5" not in allowed("Per", " F", "1") and " the" in allowed("Per", " F", "1")
    # Mid-sentence (a number's dot is no sentence end) anything goes; after one, cite again.
    assert " ran" in allowed("Per", " F", "1", ",", " ran", "2", ".")
    assert allowed("Per", " F", "1", ",", " peers", ".") == {" Per", '"'}
