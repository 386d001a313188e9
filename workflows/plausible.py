"""Values no real job can have (infinite, negative, or beyond any plausible magnitude) are data
problems: they become missing values, with one note saying where, so no model sees them and no
explanation prints a 309-digit number."""

from __future__ import annotations

import numpy as np
import pandas as pd
from flowsleuth.workflows.schema import NUMERIC_COLUMNS, TIMESTAMPS

# Upper bounds far beyond anything in Flow-Bench (its largest duration is ~8,000 s, its largest
# byte count ~5e9) yet far below the overflow range.
_SECONDS_MAX = 1e8  # three years
_EPOCH_MAX = 1e11  # the year 5138
_COUNT_MAX = 1e16  # bytes, system calls, bytes per second


def upper_bound(column: str) -> float:
    if column in TIMESTAMPS:
        return _EPOCH_MAX
    if any(w in column for w in ("delay", "runtime", "time", "iowait")) and "per_sec" not in column:
        return _SECONDS_MAX
    return _COUNT_MAX


def implausible_note(frame: pd.DataFrame, source: str) -> str | None:
    """Blank implausible values in ``frame`` (in place); describe them in one line, or None."""
    cols = [c for c in NUMERIC_COLUMNS if c in frame.columns]
    block = frame[cols].to_numpy(dtype=float)
    bounds = np.array([upper_bound(c) for c in cols])
    with np.errstate(invalid="ignore"):
        if not ((block < 0) | (block > bounds) | np.isinf(block)).any():
            return None  # the common case, in one pass over the block
    found: list[str] = []
    total = 0
    for c in NUMERIC_COLUMNS:
        if c not in frame.columns:
            continue
        v = frame[c].to_numpy()
        bad = ~np.isnan(v) & ((v < 0) | (v > upper_bound(c)) | ~np.isfinite(v))
        n = int(bad.sum())
        if not n:
            continue
        total += n
        first = int(np.flatnonzero(bad)[0])
        if len(found) < 3:
            found.append(f"{c} of job {frame.index[first]} is {v[first]:.6g}")
        frame[c] = np.where(bad, np.nan, v)
    if not total:
        return None
    return (
        f"{source}: data problem: {total} implausible value(s) (infinite, negative or too large) "
        f"treated as missing: {'; '.join(found)}"
    )
