"""Backwards-compatible name for the tool contract, which lives in :mod:`flowsleuth.workflows.contract`.

Plugins written against ``flowsleuth.tools.base`` keep working; new code imports the contract.
"""

from flowsleuth.workflows.contract import (
    RunResults,
    RunToolFn,
    ServiceKey,
    Services,
    Subject,
    ToolFn,
    ToolResult,
    ToolStatus,
)

__all__ = [
    "RunResults",
    "RunToolFn",
    "ServiceKey",
    "Services",
    "Subject",
    "ToolFn",
    "ToolResult",
    "ToolStatus",
]
