"""Job fields are data. Before anything reaches a terminal, control characters (ANSI/OSC escape
sequences, carriage returns, C1 codes, bidi overrides) are shown as visible ``\\xNN`` text and
rich markup is escaped, so a hostile host or job id can neither drive the terminal nor style
our output."""

from __future__ import annotations

import re

from flowsleuth.workflows.text import CONTROL, CONTROL_OR_NEWLINE
from rich.markup import escape


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text: object, *, newlines: bool = True) -> str:
    """``text`` with every control character replaced by its visible escape."""
    pattern = CONTROL if newlines else CONTROL_OR_NEWLINE
    return pattern.sub(_visible, str(text))


def safe(text: object, *, newlines: bool = True) -> str:
    """``text`` ready for a rich markup string: control characters made visible, markup escaped."""
    return escape(plain(text, newlines=newlines))
