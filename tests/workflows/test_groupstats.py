"""The numpy group statistics equal pandas' to the last bit (NaN, ties, infinities included)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from flowsleuth.workflows.groupstats import (
    codes_of,
    group_extreme,
    group_first,
    group_mean,
    group_median,
    group_mid_rank,
    group_quantile,
    group_rank_pct,
    group_std,
    median,
)


def _data(seed: int, n: int = 300, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = rng.lognormal(0, 3, size=(n, k)) * rng.choice([1e-8, 1.0, 1e9], size=(n, k))
    values[rng.random((n, k)) < 0.15] = np.nan
    values[rng.random((n, k)) < 0.2] = 3.0  # ties
    values[:, -1] = np.round(values[:, -1])  # many ties
    keys = rng.choice(["h-b", "h-a", "z", "", "h-c", "solo"], size=n, p=[0.3, 0.3, 0.2, 0.1, 0.09, 0.01])
    keys[-7:] = "all-nan"
    values[-7:, 0] = np.nan
    values[:, 2] = np.nan if seed == 5 else values[:, 2]  # a column with no value
    return values, keys


@pytest.mark.parametrize("seed", range(6))
def test_same_as_pandas(seed: int) -> None:
    values, keys = _data(seed)
    frame = pd.DataFrame(values)
    codes, uniq = codes_of(keys)
    groups = frame.groupby(keys)
    want_med, want_mean = groups.median(), groups.mean()
    assert list(uniq) == list(want_med.index)
    np.testing.assert_array_equal(group_median(values, codes, len(uniq)), want_med.to_numpy())
    np.testing.assert_array_equal(group_mean(values, codes, len(uniq)), want_mean.to_numpy())
    np.testing.assert_array_equal(group_rank_pct(values, codes, len(uniq)), groups.rank(pct=True).to_numpy())
    np.testing.assert_array_equal(group_median(values[:, 1], codes, len(uniq)), want_med[1].to_numpy())
    np.testing.assert_array_equal(group_std(values, codes, len(uniq)), groups.std().to_numpy())
    np.testing.assert_array_equal(group_extreme(values, codes, len(uniq), True), groups.max().to_numpy())
    np.testing.assert_array_equal(group_extreme(values, codes, len(uniq), False), groups.min().to_numpy())
    np.testing.assert_array_equal(group_first(values, codes, len(uniq)), groups.first().to_numpy())
    for q in (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0):
        want = groups.quantile(q).to_numpy()
        np.testing.assert_array_equal(group_quantile(values, codes, len(uniq), q), want)
    for j in range(values.shape[1]):
        np.testing.assert_array_equal(median(values[:, j]), frame[j].median())


def test_kahan_order_matters_and_matches() -> None:
    """Sums where plain summation differs from pandas' compensated one."""
    values = np.array([[1e16], [1.0], [1.0], [-1e16], [3.0], [0.1], [0.2], [0.3]] * 3)
    keys = np.array(["a"] * 12 + ["b"] * 12)
    codes, uniq = codes_of(keys)
    want = pd.DataFrame(values).groupby(keys).mean().to_numpy()
    np.testing.assert_array_equal(group_mean(values, codes, len(uniq)), want)


def test_infinite_values() -> None:
    values = np.array([[np.inf], [1.0], [-np.inf], [2.0], [np.inf], [np.nan]])
    keys = np.array(["a", "a", "b", "b", "c", "c"])
    codes, uniq = codes_of(keys)
    groups = pd.DataFrame(values).groupby(keys)
    np.testing.assert_array_equal(group_mean(values, codes, len(uniq)), groups.mean().to_numpy())
    np.testing.assert_array_equal(group_median(values, codes, len(uniq)), groups.median().to_numpy())
    np.testing.assert_array_equal(group_rank_pct(values, codes, len(uniq)), groups.rank(pct=True).to_numpy())


@pytest.mark.parametrize("seed", range(3))
def test_mid_rank_same_as_pandas(seed: int) -> None:
    values, keys = _data(seed)
    codes, uniq = codes_of(keys)
    groups = pd.DataFrame(values).groupby(keys)
    want = (groups.rank() - 0.5) / groups.transform("count")
    np.testing.assert_array_equal(group_mid_rank(values, codes, len(uniq)), want.to_numpy())
