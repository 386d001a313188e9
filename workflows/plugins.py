"""The entry points of flowsleuth's seams (``flowsleuth.tools``, ``flowsleuth.backends``,
``flowsleuth.readers``): flowsleuth's own always, other distributions' only when the caller
enables plugins (the CLI's ``Settings.no_plugins`` decides; nothing here reads the environment).
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

OWN_DISTRIBUTION = "flowsleuth"


def distribution(ep: EntryPoint) -> str:
    """The distribution that declares ``ep`` (its own name when unknown)."""
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else ep.name


def group_entry_points(group: str, *, plugins: bool = True) -> tuple[list[EntryPoint], list[EntryPoint]]:
    """(flowsleuth's own entry points of ``group`` sorted by name, other distributions' when
    ``plugins``, else none)."""
    eps = list(entry_points(group=group))
    own = sorted((ep for ep in eps if distribution(ep) == OWN_DISTRIBUTION), key=lambda ep: ep.name)
    others = [ep for ep in eps if distribution(ep) != OWN_DISTRIBUTION] if plugins else []
    return own, others
