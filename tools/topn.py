"""The top ``n`` of a small array without building pandas objects: what ``nlargest`` picks.

``Series.nlargest(n)`` (and ``DataFrame.nlargest(n, column)``, keep="first") returns the ``n``
largest values, ties in order of appearance: for an array without NaN that is a stable sort on
the negated values, cut at ``n``. A run's summary takes its top five jobs; on a small run
pandas' machinery for it cost more than the rest of the summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd


def largest(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest values, as ``pd.Series(values).nlargest(n)`` orders them."""
    v = np.asarray(values, dtype=float)
    if np.isnan(v).any():  # NaN rows go last in pandas' own way: let it place them
        return np.asarray(pd.Series(v).nlargest(n).index)
    return np.argsort(-v, kind="stable")[:n]


def counts(values: Iterable[object]) -> dict[object, int]:
    """``pd.Series(values).value_counts().to_dict()`` for a few distinct values: by count,
    descending, ties in order of first appearance."""
    return dict(sorted(Counter(values).items(), key=lambda kv: -kv[1]))
