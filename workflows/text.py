"""Characters that must never reach a terminal as themselves: C0 controls (tab and newline
aside), DEL, C1, and the Unicode bidi overrides ("Trojan source")."""

from __future__ import annotations

import re

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CONTROL_OR_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def without_controls(text: str) -> str:
    """``text`` less its control characters (for text we write ourselves, e.g. an LLM's prose)."""
    return CONTROL.sub("", text)
