"""Logits processors and a stopping rule for the guided decoder's free-text values.

Each works on one sequence (batch of 1) and sees the whole sequence, prompt included; ``start``
is where the generated value begins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flowsleuth.agent.validate import quoted_numbers

_TRAILING_NUMBER = re.compile(r"\d[\d.]*$")
_WORD = re.compile(r"\w")
_SENTENCE_END = re.compile(r"[.!?]\s")
_CITED = re.compile(r"\bF(\d+)\b")
# where a sentence ends: a stop and a space, or a stop right after a letter ("peers.") at the end
_SENTENCE_BOUNDARY = re.compile(r"[.!?](?=\s)|(?<=[A-Za-z)])[.!?]$")
_FINDING_LINE = re.compile(r"^(F\d+): (.+)$", re.MULTILINE)


def written_numbers(text: str) -> frozenset[str]:
    """The numbers written in ``text`` outside identifiers, as written (``1.86x`` gives ``1.86``),
    read exactly as the validator reads a narration (:func:`agent.validate.quoted_numbers`), so
    the decoder may copy precisely what validation will accept. Only plain decimals are copied."""
    plain = (raw.rstrip("%").lstrip("-") for raw, _, _ in quoted_numbers(text))
    return frozenset(n for n in plain if n.replace(".", "").isdigit())


def finding_numbers(text: str) -> dict[str, frozenset[str]]:
    """Each finding line of ``text`` (``F2: host ... 1.28x ...``): id -> its numbers as written."""
    return {m.group(1): written_numbers(m.group(2)) for m in _FINDING_LINE.finditer(text)}


class BanUntil:
    """Forbid stop tokens (quote, newline, special) for the first ``min_tokens`` steps, so a
    string value is never empty; afterwards any of them ends the value."""

    def __init__(self, stop_ids: Sequence[int], start: int, min_tokens: int) -> None:
        self.stop_ids = list(stop_ids)
        self.start = start
        self.min_tokens = min_tokens

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if input_ids.shape[1] - self.start < self.min_tokens:
            scores[:, self.stop_ids] = -math.inf
        return scores


class NoRepeatGenerated:
    """Ban a token that would repeat an ``n``-gram of the *generated* text. Unlike transformers'
    ``repetition_penalty`` / ``no_repeat_ngram_size``, the prompt is exempt, so the model may
    quote the evidence it narrates while still not looping. It never bans the last tokens left
    (after :class:`CopyNumbers`, the one digit that completes a number)."""

    def __init__(self, start: int, n: int) -> None:
        self.start = start
        self.n = n

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        gen = input_ids[0, self.start :].tolist()
        k = self.n - 1
        if len(gen) < self.n:
            return scores
        tail = gen[-k:]
        banned = sorted({gen[i + k] for i in range(len(gen) - k) if gen[i : i + k] == tail})
        if banned:
            before = scores[:, banned].clone()
            scores[:, banned] = -math.inf
            if not bool(scores.isfinite().any()):
                scores[:, banned] = before
        return scores


class CopyNumbers:
    """A number the model writes outside an identifier must be one of ``numbers``, as written.

    Digits (single tokens in SmolLM2's vocabulary) and ``.`` are allowed only while they extend
    one of ``numbers``; a number that is not yet one of them cannot end. So a small model copies
    the evidence's numbers instead of inventing its own. Numbers inside identifiers (a letter,
    ``_`` or ``-`` right before the digits) are left alone, as the validator leaves them.
    With ``cited`` (finding id -> its numbers), a sentence that has already cited a finding
    (``Per F2, ...``) may write only that finding's numbers, as the validator demands.
    """

    def __init__(
        self,
        token_texts: Sequence[str],
        start: int,
        numbers: Iterable[str],
        cited: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.texts = token_texts
        self.start = start
        self.numbers = frozenset(numbers)
        self.cited = {k: v for k, v in (cited or {}).items() if v}
        self._prefixes: dict[frozenset[str], set[str]] = {}
        self.digit_ids = {t: i for i, t in enumerate(token_texts) if len(t) == 1 and t.isdigit()}
        self.dot_ids = [i for i, t in enumerate(token_texts) if t == "."]

    def _allowed(self, text: str) -> frozenset[str]:
        """The numbers the current sentence of ``text`` may write."""
        sentence = _SENTENCE_END.split(text)[-1]
        ids = _CITED.findall(sentence)
        return self.cited.get(f"F{ids[-1]}", self.numbers) if ids else self.numbers

    def _prefixes_of(self, numbers: frozenset[str]) -> set[str]:
        if numbers not in self._prefixes:
            self._prefixes[numbers] = {n[:i] for n in numbers for i in range(1, len(n) + 1)}
        return self._prefixes[numbers]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        gen = input_ids[0, self.start :].tolist()
        text = "".join(self.texts[i] for i in gen)
        tail = text[-120:]
        m = _TRAILING_NUMBER.search(tail)
        current = m.group(0) if m else ""
        before = tail[: m.start()] if m else tail
        numbers = self._allowed(text[: len(text) - len(current)]) if self.cited else self.numbers
        prefixes = self._prefixes_of(numbers)
        if _in_identifier(before) or (current and current not in prefixes):
            return scores
        keep = [i for d, i in self.digit_ids.items() if current + d in prefixes]
        if current and current + "." in prefixes:
            keep += self.dot_ids
        complete = current in numbers or (current.endswith(".") and current[:-1] in numbers)
        if current and not complete:
            if keep:  # mid-number: only a continuation of an allowed number may follow
                allowed = scores[:, keep].clone()
                scores[:] = -math.inf
                scores[:, keep] = allowed
            return scores
        banned = sorted(set(self.digit_ids.values()) - set(keep))
        if banned:
            scores[:, banned] = -math.inf
        return scores


class CiteFirst:
    """Each sentence opens with ``Per F<n>,``: the id of one of ``ids`` (the findings shown).

    So every sentence cites a finding before it says anything, and :class:`CopyNumbers` can
    hold its numbers to that finding's. A sentence ends at ``.``, ``!`` or ``?`` followed by a
    space, or at one right after a letter at the end; there the value may also just end."""

    OPENER = "Per F"

    def __init__(
        self, token_texts: Sequence[str], start: int, ids: Iterable[str], stop_ids: Iterable[int]
    ) -> None:
        self.texts = token_texts
        self.start = start
        self.ids = {i.removeprefix("F") for i in ids}
        self.stop_ids = list(stop_ids)
        self.candidates = [i for i, t in enumerate(token_texts) if t and t in " " + self.OPENER]
        self.digit_ids = {t: i for i, t in enumerate(token_texts) if len(t) == 1 and t.isdigit()}

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        text = "".join(self.texts[i] for i in input_ids[0, self.start :].tolist())
        ends = list(_SENTENCE_BOUNDARY.finditer(text))
        rest = text[ends[-1].end() :] if ends else text
        opened = rest.lstrip()
        m = re.fullmatch(re.escape(self.OPENER) + r"(\d*)", opened)
        if m is not None:  # the id: digits that lead to a shown finding's, then anything
            digits = m.group(1)
            keep = [i for d, i in self.digit_ids.items() if any(x.startswith(digits + d) for x in self.ids)]
            if digits in self.ids:  # complete: it may go on, but not into another id
                scores[:, sorted(set(self.digit_ids.values()) - set(keep))] = -math.inf
                return scores
            return _only(scores, keep) if keep else scores
        if not self.OPENER.startswith(opened):
            return scores  # mid-sentence (or an opener already missed: nothing to force)
        keep = [
            i
            for i in self.candidates
            if (new := (rest + self.texts[i]).lstrip())
            and self.OPENER.startswith(new)
            and not (ends and not rest and not self.texts[i].startswith(" "))  # "peers." + " Per"
        ]
        if ends and not opened:  # at a sentence boundary the value may end
            keep += self.stop_ids
        return _only(scores, keep) if keep else scores


def _only(scores: Any, keep: list[int]) -> Any:
    """``scores`` with every token but ``keep`` forbidden."""
    allowed = scores[:, keep].clone()
    scores[:] = -math.inf
    scores[:, keep] = allowed
    return scores


def _in_identifier(before: str) -> bool:
    """True when digits written after ``before`` belong to an identifier (x3, cpu_3, node-12)."""
    if not before:
        return False
    if _WORD.match(before[-1]):
        return True
    return before[-1] == "-" and len(before) > 1 and bool(_WORD.match(before[-2]))


class StopAtLength:
    """Stop once the generated text is longer than ``max_chars`` (the field's ``max_length``)
    or holds ``max_sentences`` full sentences: what follows would be cut anyway."""

    def __init__(
        self, token_texts: Sequence[str], start: int, max_chars: int | None, max_sentences: int | None
    ) -> None:
        self.texts = token_texts
        self.start = start
        self.max_chars = max_chars
        self.max_sentences = max_sentences

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        text = "".join(self.texts[i] for i in input_ids[0, self.start :].tolist())
        done = (self.max_chars is not None and len(text) > self.max_chars) or (
            self.max_sentences is not None and len(_SENTENCE_END.findall(text)) >= self.max_sentences
        )
        return torch.tensor([done], device=input_ids.device)


class StopOn:
    """Stop as soon as the last token is one of ``stop_ids``."""

    def __init__(self, stop_ids: set[int]) -> None:
        self.stop_ids = stop_ids

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        last = int(input_ids[0, -1])
        return torch.tensor([last in self.stop_ids], device=input_ids.device)
