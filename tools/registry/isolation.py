"""What a plugin may touch. A plugin gets its own copy of the run (so mutating the frame cannot
change another tool's evidence), its prints go to stderr (so they cannot corrupt ``--json`` on
stdout), and its timeout is never above the configured one."""

from __future__ import annotations

import dataclasses
import sys
import threading
from typing import Any, TextIO

from flowsleuth.workflows.contract import RunFacts, Subject

_PLUGIN_THREADS: set[int] = set()
_LOCK = threading.Lock()


def is_plugin(source: str) -> bool:
    return source != "builtin"


def isolated(subject: Subject) -> Subject:
    """A deep copy of the frames the tool can reach: run frame, labels, run context. (The
    subject itself is frozen and its services read-only.)"""
    run = subject.run
    copy = dataclasses.replace(
        run,
        frame=run.frame.copy(deep=True),
        labels=None if run.labels is None else run.labels.copy(deep=True),
    )
    facts = subject.facts
    if facts is not None:
        facts = RunFacts(facts.context.copy(deep=True), facts.hosts.copy(deep=True))
    return dataclasses.replace(subject, run=copy, facts=facts)


class _Router:
    """``sys.stdout`` stand-in: writes from a plugin's thread go to stderr, all others through."""

    def __init__(self, stdout: TextIO) -> None:
        self._stdout = stdout

    def write(self, text: str) -> int:
        if threading.get_ident() in _PLUGIN_THREADS:
            return sys.stderr.write(text)
        return self._stdout.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stdout, name)


def enter_plugin_thread() -> None:
    """Call from the plugin's worker thread, before the plugin runs."""
    with _LOCK:
        if not isinstance(sys.stdout, _Router):
            sys.stdout = _Router(sys.stdout)
        _PLUGIN_THREADS.add(threading.get_ident())


def leave_plugin_thread() -> None:
    with _LOCK:
        _PLUGIN_THREADS.discard(threading.get_ident())
