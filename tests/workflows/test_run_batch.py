"""A batch of runs gives each run exactly its own run context and group statistics."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from flowsleuth.workflows.batch import Batch, contexts_of, run_keyed
from flowsleuth.workflows.context import context_of
from flowsleuth.workflows.groupstats import group_np_quantiles
from flowsleuth.workflows.models import Run


def test_each_run_gets_its_own_context(small_runs: list[Run]) -> None:
    runs = small_runs
    alone = [context_of(r.frame.copy()) for r in runs]  # copies: their own memo entries
    together = contexts_of(Batch(runs))
    for a, b in zip(alone, together, strict=True):
        pd.testing.assert_frame_equal(a.ratios, b.ratios, check_exact=True)
        pd.testing.assert_frame_equal(a.hosts, b.hosts, check_exact=True)
        pd.testing.assert_frame_equal(a.context, b.context, check_exact=True)


def test_the_batch_context_is_what_later_readers_find(small_runs: list[Run]) -> None:
    runs = [dataclasses.replace(r, frame=r.frame.copy()) for r in small_runs[:3]]
    parts = contexts_of(Batch(runs))
    assert all(context_of(r.frame) is p for r, p in zip(runs, parts, strict=True))


def test_run_keyed_groups_never_mix_runs() -> None:
    codes, n, group_run, names = run_keyed(np.array([0, 0, 1, 1, 1]), np.array(["b", "a", "a", "b", "a"]))
    assert n == 4
    assert group_run.tolist() == [0, 0, 1, 1]
    assert [list(x) for x in names] == [["a", "b"], ["a", "b"]]
    assert codes.tolist() == [1, 0, 2, 3, 2]


def test_a_missing_column_fails_as_the_run_alone_would(small_runs: list[Run]) -> None:
    runs = small_runs[:2]
    broken = dataclasses.replace(runs[1], frame=runs[1].frame.drop(columns="runtime"))
    with pytest.raises(KeyError):
        Batch([runs[0], broken]).block(["runtime"])


@pytest.mark.parametrize("qs", [[1.0, 0.9, 0.0], [0.5, 0.9, 0.1], [0.9, 0.75, 0.25, 0.99], [0.01]])
def test_group_quantiles_are_numpys_to_the_bit(qs: list[float]) -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 40, 600)
    values = rng.normal(size=600) * rng.choice([1e-3, 1.0, 1e6], 600)
    values[rng.random(600) < 0.1] = np.nan
    values[rng.random(600) < 0.02] = np.inf
    values[:50] = np.round(values[:50])  # ties
    got = group_np_quantiles(values, codes, 42, qs)  # groups 40 and 41 have no value
    for g in range(42):
        v = values[codes == g]
        v = v[np.isfinite(v)]
        want = np.quantile(v, qs) if len(v) else np.full(len(qs), np.nan)
        np.testing.assert_array_equal(got[g], want)
