"""Evidence items (tool -> number) for the verdict, and the set of numbers a narration may quote."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from flowsleuth.agent.verdict import EvidenceItem
from flowsleuth.workflows.contract import ToolResult, ToolStatus

_PER_TOOL = 6


def evidence_items(results: Sequence[ToolResult]) -> list[EvidenceItem]:
    """Up to six numbers per successful tool: its top-level numbers first, then nested ones."""
    items: list[EvidenceItem] = []
    seen: set[tuple[str, str]] = set()
    for r in results:
        key = (r.tool, json.dumps(r.data, sort_keys=True, default=str))
        if r.status is not ToolStatus.OK or key in seen:  # the tool loop may repeat a call
            continue
        seen.add(key)
        numbers = list(r.numbers())
        top = [(p, v) for p, v in numbers if p.count(".") == 1 and "[" not in p]
        chosen = (top or numbers)[:_PER_TOOL]
        for path, value in chosen:
            items.append(
                EvidenceItem(tool=r.tool, name=path.split(".", 1)[1], value=value, unit=None, note=r.summary)
            )
    return items


def allowed_numbers(results: Iterable[ToolResult], extra: Iterable[float] = ()) -> list[float]:
    """Every number any tool computed (plus ``extra``, e.g. the fused score)."""
    out = [v for r in results for _, v in r.numbers()]
    out.extend(extra)
    return out
