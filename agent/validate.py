"""Every number a narration quotes must be one a tool computed (the LLM does no arithmetic).

Numbers inside identifiers (job ids, host names, class labels such as ``hdd_5``) are not claims,
so known identifiers are masked before numbers are extracted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

_NUMBER = re.compile(r"(?<![\w.\-])(-?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?)(%?)(?![\w])")
_IDENT = re.compile(r"\b[\w\-.:]*[A-Za-z_][\w\-.:]*\d[\w\-.:]*\b|\b[\w\-.:]*\d[\w\-.:]*[A-Za-z_][\w\-.:]*\b")
_TIMES = re.compile(r"(\d(?:[\d.]*\d)?)[x\u00d7](?![\w])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def quoted_numbers(text: str, identifiers: Iterable[str] = ()) -> list[tuple[str, float, bool]]:
    """(as written, value, is_percent) for each number in ``text`` outside identifiers."""
    masked = text
    for ident in sorted({i for i in identifiers if i}, key=len, reverse=True):
        masked = masked.replace(ident, " ")
    masked = _TIMES.sub(r"\1 ", masked)  # "3.2x" is a ratio claim, not an identifier
    masked = _IDENT.sub(" ", masked)  # any other token mixing letters and digits (x3, ID0047)
    out = []
    for m in _NUMBER.finditer(masked):
        raw = m.group(1)
        out.append((raw + m.group(2), float(raw.replace(",", "")), m.group(2) == "%"))
    return out


def _decimals(raw: str) -> int:
    mantissa = raw.rstrip("%").split("e")[0].split("E")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def is_backed(raw: str, value: float, percent: bool, allowed: Sequence[float]) -> bool:
    """True when ``value`` is an allowed number as written (rounded to the quoted decimals);
    a percentage may quote a fraction (0.83 -> 83%) or a percentile (95 -> 95%)."""
    tol = 0.5 * 10 ** (-_decimals(raw)) + 1e-9
    return any(
        abs(a - value) <= tol or (percent and abs(a * 100 - value) <= tol)
        for a in allowed
        if math.isfinite(a)
    )


def unbacked(text: str, allowed: Sequence[float], identifiers: Iterable[str] = ()) -> list[str]:
    """The numbers in ``text`` that no tool computed, as written."""
    return [raw for raw, v, pct in quoted_numbers(text, identifiers) if not is_backed(raw, v, pct, allowed)]


def strip_unbacked(text: str, allowed: Sequence[float], identifiers: Iterable[str] = ()) -> str:
    """Drop each sentence that quotes an unbacked number; keep the rest verbatim."""
    idents = list(identifiers)
    kept = [s for s in _SENTENCE.split(text.strip()) if s and not unbacked(s, allowed, idents)]
    return " ".join(kept)
