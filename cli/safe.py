"""Job fields are data. Before anything reaches a terminal, control characters (ANSI/OSC escape
sequences, carriage returns, C1 codes, bidi overrides) are shown as visible ``\\xNN`` text and
rich markup is escaped, so a hostile host or job id can neither drive the terminal nor style
our output."""

from __future__ import annotations

import re

from rich.markup import escape

# C0 except tab and newline, DEL, C1, and the Unicode bidi controls ("Trojan source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text: object, *, newlines: bool = True) -> str:
    """``text`` with every control character replaced by its visible escape."""
    pattern = _CONTROL if newlines else _CONTROL_OR_NEWLINE
    return pattern.sub(_visible, str(text))


def safe(text: object, *, newlines: bool = True) -> str:
    """``text`` ready for a rich markup string: control characters made visible, markup escaped."""
    return escape(plain(text, newlines=newlines))
