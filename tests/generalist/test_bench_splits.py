"""bench/generalize.py's splits: the held-out workflow's runs never reach its own training, in
every tier (zero-shot, history, labelled), and no tested run is used for history or labels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import synth_runs

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # bench/ is importable as ``python -m`` gives it
gen_tiers = pytest.importorskip("bench.gen_tiers")


def _frame(workflows: dict[str, int]) -> pd.DataFrame:
    """Stacked runs as bench/gen_data.py:load_all builds them."""
    parts = []
    for k, (wf, n) in enumerate(workflows.items()):
        for run in synth_runs(wf, n, seed=k):
            f = run.frame.copy()
            f["workflow"], f["run_id"] = wf, run.run_id
            f["label"], f["injected"] = run.labels, run.injected or "None"
            parts.append(f.reset_index())
    return pd.concat(parts, ignore_index=True)


def test_held_out_workflow_never_reaches_its_own_training() -> None:
    df = _frame({"a": 8, "b": 6, "c": 5})
    rng = np.random.default_rng(0)
    split = gen_tiers.lowo_splits(df, "a", max_jobs=10**6, rng=rng)
    assert not (df.loc[split.train, "workflow"] == "a").any()
    assert set(df.loc[split.test, "run_id"]) == {f"a-run{r:04d}" for r in range(8)}
    assert set(df.loc[split.train, "workflow"]) == {"b", "c"}
    # the history tier: the held-out workflow's history runs leave the test set, and every
    # workflow's history runs leave training
    hist = gen_tiers.pick_runs(df, "a", 3, rng, exclude=set())
    s2 = gen_tiers.Split(split.train.copy(), split.test & ~df["run_id"].isin(hist).to_numpy())
    feats = pd.DataFrame({"x": df["runtime"].astype("float32")}, index=df.index)
    gen_tiers.add_history(df, feats, s2, "a", hist, 2, rng)
    gen_tiers.check_split(df, "a", s2)
    assert not set(df.loc[s2.test, "run_id"]) & set(hist)
    assert not set(df.loc[s2.train, "run_id"]) & set(hist)
    # the labelled tier: labelled runs are neither tested nor trained on
    lab = gen_tiers.pick_runs(df, "a", 2, rng, exclude=set(hist), anomalous_first=True)
    assert df.loc[df["run_id"] == lab[0], "injected"].iloc[0] != "None"
    assert not set(lab) & set(hist)
    labelled = df["run_id"].isin(lab).to_numpy()
    with pytest.raises(AssertionError, match="labelled run is also tested"):
        gen_tiers.adapt_and_score(df, feats, np.zeros(len(df), int), s2, labelled, {})


def test_check_split_refuses_a_leak() -> None:
    df = _frame({"a": 3, "b": 3})
    test = (df["workflow"] == "a").to_numpy()
    leak = gen_tiers.Split(~test | (df["run_id"] == "a-run0000").to_numpy(), test)
    with pytest.raises(AssertionError, match="both training and test"):
        gen_tiers.check_split(df, "a", leak)
    one = (df["run_id"] == "a-run0001").to_numpy()
    own = gen_tiers.Split(~test | one, test & ~one)
    with pytest.raises(AssertionError, match="reached a's own training"):
        gen_tiers.check_split(df, "a", own)
