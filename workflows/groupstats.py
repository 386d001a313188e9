"""Group statistics over whole numpy arrays, equal to pandas' to the last bit.

A small run has a dozen jobs: there, a pandas ``groupby`` costs far more in building Series and
indexes than in arithmetic, and it was most of a small run's scoring time. These do the same
arithmetic as pandas on a 2-D float block (rows x columns) and integer group codes:

* :func:`group_median`: the median of each group's non-NaN values, ``(a + b) / 2`` for an even
  count, as pandas' ``median`` (NaN for a group with none);
* :func:`group_mean`: Kahan-compensated sums in row order over the non-NaN values, divided by
  their count, as pandas' cython ``group_mean``;
* :func:`group_rank_pct`: average rank among the group's non-NaN values over their count, as
  ``groupby(...).rank(pct=True)`` (NaN stays NaN);
* :func:`median`, :func:`quantile`: of one column's non-NaN values;
* :func:`group_np_quantiles`: ``np.quantile`` of each group's finite values (numpy's own
  arithmetic, not pandas').

The tests (``tests/workflows/test_groupstats.py``) compare each with pandas on random data, NaN
and ties included.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def codes_of(keys: Sequence[object] | np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(group code of each row, the sorted distinct keys): pandas' sorted grouping order."""
    codes, uniques = pd.factorize(np.asarray(keys, dtype=object), sort=True)
    return codes, np.asarray(uniques, dtype=object)


def _segments(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by group (stable: row order kept inside a group), and each group's start."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return order, starts


def _by_position(
    v: np.ndarray, codes: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes and value rows sorted by group (row order kept inside a group), and each row's
    position in its group: the running sums update the k-th rows of every group together."""
    order, starts = _segments(codes, n_groups)
    sc = codes[order]
    return sc, v.reshape(len(v), -1)[order], np.arange(len(sc)) - starts[sc]


def group_median(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups x columns) medians of each group's non-NaN values."""
    v = np.asarray(values, dtype=float)
    v2 = v.reshape(len(v), -1)
    out = np.full((n_groups, v2.shape[1]), np.nan)
    for j in range(v2.shape[1]):
        col = v2[:, j]
        ok = ~np.isnan(col)
        c, x = codes[ok], col[ok]
        order = np.lexsort((x, c))
        xs, cs = x[order], c[order]
        n = np.bincount(cs, minlength=n_groups)
        start = np.concatenate([[0], np.cumsum(n)[:-1]])
        has = n > 0
        lo = start[has] + (n[has] - 1) // 2
        hi = start[has] + n[has] // 2
        out[has, j] = np.where(lo == hi, xs[lo], (xs[lo] + xs[hi]) / 2)
    return out if v.ndim == 2 else out[:, 0]


def group_mean(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups x columns) means of each group's non-NaN values, summed as pandas does."""
    v = np.asarray(values, dtype=float)
    sc, sv, pos = _by_position(v, codes, n_groups)
    k = sv.shape[1]
    total = np.zeros((n_groups, k))
    comp = np.zeros((n_groups, k))
    nobs = np.zeros((n_groups, k))
    with np.errstate(invalid="ignore"):  # inf - inf in the compensation: reset below
        for step in range(int(pos.max()) + 1 if len(pos) else 0):
            _kahan_step(pos == step, sc, sv, total, comp, nobs)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(nobs > 0, total / nobs, np.nan)
    return out if v.ndim == 2 else out[:, 0]


def _kahan_step(
    rows: np.ndarray, sc: np.ndarray, sv: np.ndarray, total: np.ndarray, comp: np.ndarray, nobs: np.ndarray
) -> None:
    """Add the selected rows (at most one of each group: no two updates collide) in place."""
    g, x = sc[rows], sv[rows]
    ok = ~np.isnan(x)
    s, c = total[g], comp[g]
    y = x - c
    t = s + y
    new_c = (t - s) - y
    new_c = np.where(np.isnan(new_c), 0.0, new_c)  # an infinite value: keep the sum infinite
    total[g] = np.where(ok, t, s)
    comp[g] = np.where(ok, new_c, c)
    nobs[g] += ok


def group_rank(values: np.ndarray, codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(each row's average 1-based rank among its group's non-NaN values, that count); NaN rows
    get NaN ranks, as ``groupby(...).rank()`` and ``groupby(...).transform("count")``."""
    v = np.asarray(values, dtype=float)
    v2 = v.reshape(len(v), -1)
    out = np.full(v2.shape, np.nan)
    count = np.zeros(v2.shape, dtype=np.int64)
    for j in range(v2.shape[1]):
        col = v2[:, j]
        ok = np.flatnonzero(~np.isnan(col))
        n = np.bincount(codes[ok], minlength=n_groups)
        count[:, j] = n[codes]
        if not len(ok):
            continue
        c, x = codes[ok], col[ok]
        order = np.lexsort((x, c))
        xs, cs = x[order], c[order]
        start = np.concatenate([[0], np.cumsum(n)[:-1]])
        # runs of equal (group, value): each gets the mean of its 1-based ranks
        new = np.ones(len(xs), dtype=bool)
        new[1:] = (cs[1:] != cs[:-1]) | (xs[1:] != xs[:-1])
        run_id = np.cumsum(new) - 1
        first = np.flatnonzero(new)
        last = np.append(first[1:], len(xs)) - 1
        rank_in_group = np.arange(len(xs)) - start[cs] + 1
        lo, hi = rank_in_group[first], rank_in_group[last]
        avg = ((lo + hi) * (hi - lo + 1) / 2) / (hi - lo + 1)
        res = np.empty(len(xs))
        res[order] = avg[run_id]
        out[ok, j] = res
    if v.ndim == 2:
        return out, count
    return out[:, 0], count[:, 0]


def group_rank_pct(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per row: its average rank among its group's non-NaN values, over their count."""
    rank, count = group_rank(values, codes, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return rank / count


def group_mid_rank(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per row: ``(rank - 0.5) / count`` in its group (a group of one sits at 0.5)."""
    rank, count = group_rank(values, codes, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rank - 0.5) / count


def median(values: np.ndarray) -> float:
    """The median of the non-NaN values (NaN when none), as ``Series.median``."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return float(np.median(v)) if len(v) else float("nan")


def quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile (linear) of the finite values, NaN when none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.quantile(v, q)) if len(v) else float("nan")


def _sorted_groups(
    col: np.ndarray, codes: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the non-NaN values sorted by group then value, each group's count, each group's start)."""
    ok = ~np.isnan(col)
    c, x = codes[ok], col[ok]
    order = np.lexsort((x, c))
    n = np.bincount(c, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    return x[order], n, start


def group_quantile(values: np.ndarray, codes: np.ndarray, n_groups: int, q: float) -> np.ndarray:
    """(n_groups x columns) linear ``q`` quantiles of each group's non-NaN values, interpolated
    as ``groupby(...).quantile(q)`` does: ``v[i] + (v[i + 1] - v[i]) * frac``."""
    v = np.asarray(values, dtype=float)
    v2 = v.reshape(len(v), -1)
    out = np.full((n_groups, v2.shape[1]), np.nan)
    for j in range(v2.shape[1]):
        xs, n, start = _sorted_groups(v2[:, j], codes, n_groups)
        has = np.flatnonzero(n > 0)
        q_idx = q * (n[has] - 1).astype(float)
        idx = start[has] + q_idx.astype(np.int64)
        frac = q_idx % 1
        nxt = np.minimum(idx + 1, start[has] + n[has] - 1)
        lower = xs[idx]
        out[has, j] = np.where(frac == 0.0, lower, lower + (xs[nxt] - lower) * frac)
    return out if v.ndim == 2 else out[:, 0]


def group_std(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups x columns) sample standard deviations (ddof 1) of each group's non-NaN values,
    accumulated in row order with Welford's update, as pandas' ``group_var``."""
    v = np.asarray(values, dtype=float)
    sc, sv, pos = _by_position(v, codes, n_groups)
    k = sv.shape[1]
    mean = np.zeros((n_groups, k))
    m2 = np.zeros((n_groups, k))
    nobs = np.zeros((n_groups, k))
    for step in range(int(pos.max()) + 1 if len(pos) else 0):
        rows = pos == step
        g, x = sc[rows], sv[rows]
        ok = ~np.isnan(x)
        n = nobs[g] + ok
        old = mean[g]
        with np.errstate(invalid="ignore", divide="ignore"):
            new = np.where(ok, old + (x - old) / n, old)
            m2[g] = np.where(ok, m2[g] + (x - old) * (x - new), m2[g])
        mean[g] = new
        nobs[g] = n
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(nobs > 1, np.sqrt(m2 / (nobs - 1)), np.nan)
    return out if v.ndim == 2 else out[:, 0]


def group_extreme(values: np.ndarray, codes: np.ndarray, n_groups: int, largest: bool) -> np.ndarray:
    """(n_groups x columns) max (``largest``) or min of each group's non-NaN values (NaN if none)."""
    v = np.asarray(values, dtype=float)
    v2 = v.reshape(len(v), -1)
    fill = -np.inf if largest else np.inf
    out = np.full((n_groups, v2.shape[1]), fill)
    ufunc = np.maximum if largest else np.minimum
    ufunc.at(out, codes, np.where(np.isnan(v2), fill, v2))
    seen = np.zeros((n_groups, v2.shape[1]), dtype=bool)
    np.logical_or.at(seen, codes, ~np.isnan(v2))
    out[~seen] = np.nan
    return out if v.ndim == 2 else out[:, 0]


def group_first(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups x columns) the first non-NaN value of each group, in row order (NaN if none)."""
    v = np.asarray(values, dtype=float)
    v2 = v.reshape(len(v), -1)
    out = np.full((n_groups, v2.shape[1]), np.nan)
    for j in range(v2.shape[1]):
        ok = np.flatnonzero(~np.isnan(v2[:, j]))[::-1]  # reversed: the first row is written last
        out[codes[ok], j] = v2[ok, j]
    return out if v.ndim == 2 else out[:, 0]


def group_np_quantiles(values: np.ndarray, codes: np.ndarray, n: int, qs: Sequence[float]) -> np.ndarray:
    """(groups x len(qs)) ``np.quantile(finite values of the group, qs)`` (linear), with numpy's
    own index and interpolation arithmetic; NaN for a group with no finite value."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    c, x = codes[ok], v[ok]
    order = np.lexsort((x, c))
    xs = x[order]
    count = np.bincount(c, minlength=n)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    out = np.full((n, len(qs)), np.nan)
    has = np.flatnonzero(count > 0)
    cnt, first = count[has], start[has]
    for k, q in enumerate(np.asarray(qs, dtype=float)):
        virtual = (cnt - 1) * q
        prev = np.floor(virtual)
        nxt = prev + 1
        above = virtual >= cnt - 1
        prev[above] = -1
        nxt[above] = -1
        below = virtual < 0
        prev[below] = 0
        nxt[below] = 0
        p_i, n_i = prev.astype(np.intp), nxt.astype(np.intp)
        gamma = virtual - p_i
        a = xs[first + np.where(p_i < 0, cnt + p_i, p_i)]
        b = xs[first + np.where(n_i < 0, cnt + n_i, n_i)]
        diff = b - a
        res = a + diff * gamma
        res = np.where(gamma >= 0.5, b - diff * (1 - gamma), res)
        out[has, k] = res
    return out
