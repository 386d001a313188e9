"""Backwards-compatible name for the tool contract, which lives in :mod:`flowsleuth.workflows.contract`.

Plugins written against ``flowsleuth.tools.base`` keep working; new code imports the contract.
"""

from flowsleuth.workflows.contract import Subject, ToolFn, ToolResult, ToolStatus

__all__ = ["Subject", "ToolFn", "ToolResult", "ToolStatus"]
