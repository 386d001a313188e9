"""Root-cause hint tools: one file per tool, each ``(subject) -> ToolResult``.

Every number in a hint's ``data`` is computed from the run (and the normal baseline when one is
given); the docstring of each function is the description the LLM reads.
"""

from __future__ import annotations

from flowsleuth.tools.hints.dag_neighbours import dag_neighbours
from flowsleuth.tools.hints.host_peers import host_peers
from flowsleuth.tools.hints.resource_signature import resource_signature
from flowsleuth.tools.hints.transformation_baseline import transformation_baseline
from flowsleuth.workflows.contract import ToolFn

HINTS: dict[str, ToolFn] = {
    "host_peers": host_peers,
    "transformation_baseline": transformation_baseline,
    "resource_signature": resource_signature,
    "dag_neighbours": dag_neighbours,
}

__all__ = ["HINTS", "dag_neighbours", "host_peers", "resource_signature", "transformation_baseline"]
