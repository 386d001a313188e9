"""Small helpers the hint tools share: finite numbers, robust z, and rounding for output."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from flowsleuth.workflows.contract import Direction, Subject

MAD_SCALE = 1.4826
SLOW_RATIO = 1.5  # a job or host this much above its peers' median is called slow


def ratio_direction(ratio: float) -> Direction:
    """higher / lower / same: a ratio to the peers' median, read with :data:`SLOW_RATIO`."""
    return "higher" if ratio >= SLOW_RATIO else ("lower" if ratio <= 1 / SLOW_RATIO else "same")


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when missing, NaN or infinite."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def rnd(value: Any, digits: int = 3) -> float | None:
    f = finite(value)
    return None if f is None else round(f, digits)


def robust_z(value: float, peers: np.ndarray, floor: float = 0.05) -> float | None:
    """(log value - median log peers) / scaled MAD, on log(1 + x); None without peers."""
    peers = peers[np.isfinite(peers)]
    if len(peers) == 0 or not math.isfinite(value):
        return None
    logs = np.log1p(np.clip(peers, 0, None))
    med = float(np.median(logs))
    mad = MAD_SCALE * float(np.median(np.abs(logs - med)))
    return (math.log1p(max(value, 0.0)) - med) / max(mad, floor)


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column, NaN-filled when the run does not have it."""
    if name in frame.columns:
        return frame[name].astype(float)
    return pd.Series(np.nan, index=frame.index, dtype=float)


def tf_medians(subject: Subject, col: str) -> pd.Series:
    """Median of ``col`` per transformation in the subject's run (one groupby: cheap)."""
    frame = subject.run.frame
    return column(frame, col).groupby(frame["kickstart_transformations"].fillna("")).median()
