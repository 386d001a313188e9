"""Triage rows as JSONL or CSV text that is safe to open: job fields are data, so CSV cells
that a spreadsheet would run as a formula are neutralised (OWASP), and control characters are
made visible in CSV and escaped in JSON."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from flowsleuth.agent.triage_models import RunTriage, TriageRow
from flowsleuth.cli.safe import plain

FIELDS = list(TriageRow.model_fields)
# OWASP "CSV Injection": a cell starting with one of these is a formula in Excel/LibreOffice.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# JSON leaves DEL, C1 and bidi controls raw; a terminal may act on them.
_JSON_RAW_CONTROL = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def csv_cell(value: Any) -> Any:
    """A string cell as a spreadsheet shows it literally: formula starts get a leading quote."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return plain(value, newlines=False)


def _json_safe(text: str) -> str:
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_line(row: TriageRow) -> str:
    return _json_safe(row.model_dump_json()) + "\n"


def encode(triage: RunTriage, fmt: str, header: bool) -> str:
    if fmt == "jsonl":
        return "".join(json_line(r) for r in triage.rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    if header:
        writer.writeheader()
    for r in triage.rows:
        writer.writerow({k: csv_cell(v) for k, v in r.model_dump().items()})
    return buf.getvalue()


def encode_json(triages: list[RunTriage]) -> str:
    return "[" + ",".join(_json_safe(t.model_dump_json()) for t in triages) + "]\n"
