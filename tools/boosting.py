"""LightGBM prediction for scoring: ``booster.predict(frame)``'s numbers, without its per-call cost.

On a small run, LightGBM's pandas handling (dtype checks, a shallow copy, categorical scans) and
the start of its thread pool cost ten times the trees themselves. :func:`predict` hands it the
frame's values in the very dtype LightGBM would pick, on one thread (rows are independent: the
numbers are the same).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd


def predict(booster: Any, x: pd.DataFrame, **kwargs: Any) -> np.ndarray:
    """``booster.predict(x, **kwargs)`` on ``x``'s values (numeric columns, in model order)."""
    if x.empty:
        return np.asarray(booster.predict(x, **kwargs))  # its own error for an empty input
    # LightGBM's own choice of dtype for a frame (float32 unless a column needs more)
    dtype = np.result_type(*(d.type for d in x.dtypes), np.float32)
    values = x.to_numpy(dtype=dtype)
    with warnings.catch_warnings():  # a loaded booster warns that num_threads overrides its file
        warnings.filterwarnings("ignore", message="Ignoring params argument")
        return np.asarray(booster.predict(values, **{"num_threads": 1, **kwargs}))
