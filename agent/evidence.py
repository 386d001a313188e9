"""Evidence items (tool -> number) for the verdict, and the set of numbers a narration may quote."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from flowsleuth.agent.verdict import EvidenceItem
from flowsleuth.workflows.contract import Finding, ToolResult, ToolStatus

_PER_TOOL = 6
# Findings are numbered most telling first: the job against its peers, then the run's diagnosis
# (the class), the host, the neighbours' vote... A small narrator quotes the first ones and
# copies its worked example's citations by position, so F1 is the same kind of fact every time.
# What the workflow system recorded (``state``) leads when it is why the job is anomalous (it
# failed, was held or retried); a clean record comes after the measurements.
ORDER = (
    "peers",
    "diagnosis",
    "host",
    "neighbours",
    "classifier",
    "baseline",
    "signature",
    "dag",
    "state",
    "other",
)


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


def numbered_findings(results: Sequence[ToolResult]) -> list[Finding]:
    """Every finding of every successful tool, numbered F1, F2, ... in :data:`ORDER` of what
    they are about, then in result order (a repeated call of the tool loop is counted once).
    A tool that states no findings (a plugin written before them) contributes its summary,
    with all its numbers."""
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for r in results:
        if r.status is not ToolStatus.OK:
            continue
        own = r.findings
        if not own and r.summary:
            own = [Finding(tool=r.tool, about="other", text=r.summary, numbers=[v for _, v in r.numbers()])]
        for f in own:
            if (f.tool, f.text) in seen:
                continue
            seen.add((f.tool, f.text))
            found.append(f)
    recorded_problem = any(f.about == "state" and f.direction == "anomalous" for f in found)

    def rank(f: Finding) -> int:
        if recorded_problem and f.about == "state":
            return -1
        return ORDER.index(f.about) if f.about in ORDER else len(ORDER)

    found.sort(key=rank)
    return [f.model_copy(update={"id": f"F{i}"}) for i, f in enumerate(found, 1)]
