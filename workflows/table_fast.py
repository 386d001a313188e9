"""The cells of a small, regular run CSV, split with the csv module.

pandas' ``read_csv`` costs ~0.8 ms of fixed overhead on a 6 KB run (the csv module: ~0.04 ms),
a third of what a 12-job run cost to read. Only text both parsers are sure to split alike takes
this path; anything else (blank or ragged lines, stray or multi-line quotes, control characters,
a lone CR, a second BOM, bytes that are not UTF-8) returns None and is read by pandas, so every
error and every quirk stays pandas'.
"""

from __future__ import annotations

import csv
import re
from operator import itemgetter

# Runs up to this size are read here, larger ones by pandas in chunks. Measured on prefixes of a
# Flow-Bench run (whole read_table, CPU): 8 KB 0.9 vs 1.9 ms, 32 KB 1.6 vs 3.3 ms, 64 KB 4.1 vs
# 4.7 ms; from ~96 KB pandas' C tokenizer wins (the quoting check and csv module cost per byte).
FAST_MAX_BYTES = 64 << 10

# Lines both parsers split the same: each field unquoted with no quote in it, or quoted whole with
# inner quotes doubled; no line break inside quotes. Possessive: a mismatch fails in linear time.
_FIELD = r'(?:"(?:[^"\n]++|"")*+"|[^",\n]*+)'
_LINE = rf"{_FIELD}(?:,{_FIELD})*+"
_REGULAR = re.compile(rf"(?:{_LINE}\n)*+{_LINE}")
# Characters a tokenizer may treat specially (line ends, NUL, EOF marks, a BOM past the first).
_ODD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\r\ufeff]")


def small_cells(raw: bytes, used: list[int]) -> list[tuple[str, ...]] | None:
    """The data rows' cells at positions ``used`` (ascending), or None: read it with pandas."""
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        return None
    text = text.removesuffix("\n")
    if _ODD.search(text) or ('"' in text and not _REGULAR.fullmatch(text)):
        return None
    rows = list(csv.reader(text.split("\n")))
    width = len(rows[0])
    # a blank line reads as [] and a whitespace-only one as one field: both fail here too
    if len(rows) < 2 or any(len(r) != width for r in rows):
        return None
    get = itemgetter(*used)
    return [get(r) for r in rows[1:]]
