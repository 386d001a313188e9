"""One place that turns the project's errors into a one-line message and exit code 1."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from flowsleuth.cli.safe import safe
from flowsleuth.workflows.errors import FlowsleuthError
from rich.console import Console

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", markup=True, emoji=False)
    return typer.Exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so a :class:`FlowsleuthError` prints one line and exits 1, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except FlowsleuthError as err:
            raise fail(safe(err, newlines=False)) from None

    return wrapper
