from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from flowsleuth.workflows.context import CONTEXT_FEATURES, host_context, job_ratios, run_context
from flowsleuth.workflows.models import Run


def _frame(runtimes: list[float], hosts: list[str], tf: str = "t") -> pd.DataFrame:
    n = len(runtimes)
    df = pd.DataFrame(
        {col: np.ones(n) for col in CONTEXT_FEATURES.values()},
        index=[f"j{i}" for i in range(n)],
    )
    df["runtime"] = runtimes
    df["kickstart_hostname"] = hosts
    df["kickstart_transformations"] = tf
    return df


def test_job_ratio_is_relative_to_transformation_median() -> None:
    df = _frame([9.0, 9.0, 9.0, 39.0], ["a", "b", "c", "d"])
    ratios = job_ratios(df)
    assert ratios.loc["j0", "runtime_ratio"] == pytest.approx(1.0)
    assert ratios.loc["j3", "runtime_ratio"] == pytest.approx(40 / 10)  # (39+1)/(9+1)


def test_a_slow_host_stands_out_from_its_peers() -> None:
    df = _frame([10, 11, 9, 10, 30, 31], ["a", "a", "b", "b", "slow", "slow"])
    hosts = host_context(df)
    assert hosts["host_runtime_vs_peers"].idxmax() == "slow"
    assert hosts.loc["slow", "host_runtime_vs_peers"] > 2.5
    assert hosts.loc["slow", "host_runtime_z"] > 3
    assert abs(hosts.loc["a", "host_runtime_z"]) < 3
    assert hosts.loc["slow", "n_jobs"] == 2


def test_single_host_has_no_peers() -> None:
    hosts = host_context(_frame([1, 2, 3], ["only"] * 3))
    assert np.isnan(hosts.loc["only", "host_runtime_z"])


def test_nan_values_stay_nan() -> None:
    df = _frame([10.0, np.nan, 12.0], ["a", "b", "c"])
    assert np.isnan(job_ratios(df).loc["j1", "runtime_ratio"])


def test_run_context_never_sees_labels(hdd_run) -> None:
    relabelled = Run(
        hdd_run.workflow,
        hdd_run.run_id,
        hdd_run.source,
        hdd_run.frame,
        hdd_run.labels.map(lambda _: "cpu_3"),
        "cpu_3",
    )
    pd.testing.assert_frame_equal(run_context(hdd_run), run_context(relabelled))
    ctx = run_context(hdd_run)
    assert len(ctx) == len(hdd_run)
    assert ctx["n_hosts"].iloc[0] == len(hdd_run.hosts)
    assert not any("anomaly" in c for c in ctx.columns)


def test_context_of_is_computed_once_per_frame_and_equals_the_parts() -> None:
    import gc

    from flowsleuth.workflows import context

    df = _frame([10, 11, 9, 10, 30, 31], ["a", "a", "b", "b", "slow", "slow"])
    parts = context.context_of(df)
    assert context.context_of(df) is parts  # the second reader gets the same computation
    pd.testing.assert_frame_equal(parts.ratios, job_ratios(df))
    pd.testing.assert_frame_equal(parts.hosts, host_context(df))
    pd.testing.assert_frame_equal(parts.context, run_context(df))
    copy = df.copy()
    copy["runtime"] = 1.0  # e.g. a plugin's own copy: its own entry, never the original's
    assert context.context_of(copy).ratios["runtime_ratio"].eq(1.0).all()
    assert parts.ratios["runtime_ratio"].max() > 2
    key = id(copy)
    del copy
    gc.collect()
    assert key not in context._PARTS  # dropped with its frame: no growth over a long triage


def test_leave_one_out_equals_the_per_host_loop() -> None:
    """The vectorised leave-one-out is the per-host computation, bit for bit (NaN hosts too)."""
    from flowsleuth.workflows import context

    rng = np.random.default_rng(3)
    vals = rng.normal(0, 1, size=(9, 4))
    vals[rng.random(vals.shape) < 0.2] = np.nan
    vals[:, 3] = np.round(vals[:, 3])
    diff, z = context._leave_one_out(vals)
    for j in range(vals.shape[1]):
        for i in range(len(vals)):
            others = np.delete(vals[:, j], i)
            others = others[~np.isnan(others)]
            if len(others) == 0 or np.isnan(vals[i, j]):
                assert np.isnan(diff[i, j]) and np.isnan(z[i, j])
                continue
            med = np.median(others)
            mad = 1.4826 * np.median(np.abs(others - med))
            assert diff[i, j] == vals[i, j] - med
            assert z[i, j] == (vals[i, j] - med) / max(mad, 0.05)


def _leave_one_out_by_column(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plain form, one feature at a time: what the grouped :func:`_leave_one_out` must equal."""
    from flowsleuth.workflows.context import _MAD_SCALE, _Z_FLOOR

    diff, z = np.full(vals.shape, np.nan), np.full(vals.shape, np.nan)
    for j in range(vals.shape[1]):
        ok = ~np.isnan(vals[:, j])
        x = vals[ok, j]
        m = len(x)
        if m < 2:
            continue
        others = np.array([np.delete(x, i) for i in range(m)])
        med = np.median(others, axis=1)
        mad = _MAD_SCALE * np.median(np.abs(others - med[:, None]), axis=1)
        diff[ok, j] = x - med
        z[ok, j] = (x - med) / np.maximum(mad, _Z_FLOOR)
    return diff, z


def test_leave_one_out_is_bit_identical_to_column_by_column() -> None:
    from flowsleuth.workflows.context import _leave_one_out

    rng = np.random.default_rng(7)
    for _ in range(400):
        hosts = int(rng.integers(0, 10))
        vals = rng.standard_normal((hosts, 9)) * 10.0 ** rng.integers(-3, 4)
        if rng.random() < 0.5:
            vals[rng.random(vals.shape) < 0.25] = np.nan  # hosts missing from some features
        if hosts and rng.random() < 0.3:
            vals[:, rng.integers(0, 9)] = np.nan
        for got, want in zip(_leave_one_out(vals), _leave_one_out_by_column(vals), strict=True):
            assert np.array_equal(got, want, equal_nan=True)
