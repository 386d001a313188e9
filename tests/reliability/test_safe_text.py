"""The helpers every terminal string goes through."""

from __future__ import annotations

from flowsleuth.cli.safe import plain, safe


def test_safe_helpers() -> None:
    assert plain("a\x1b[0mb\u202ec\nd\te") == "a\\x1b[0mb\\u202ec\nd\te"
    assert plain("a\nb", newlines=False) == "a\\x0ab"
    assert safe("[bold]x[/]") == "\\[bold]x\\[/]"
