"""Per-workflow fusion: own coefficients and threshold, pooled fallback, versioned file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from flowsleuth.tools.classifier.calibration import best_f1_threshold
from flowsleuth.tools.decision.fusion import FORMAT_VERSION, Fusion
from flowsleuth.workflows.errors import DataError


def _two_workflows(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    """Source ``a`` is right on workflow A and noise on B; ``b`` the reverse."""
    y = rng.integers(0, 2, 2 * n)
    signal = np.clip(0.5 + (y - 0.5) * 0.8 + rng.normal(0, 0.1, 2 * n), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, 2 * n)
    wf = ["wf-a"] * n + ["wf-b"] * n
    a = np.where(np.arange(2 * n) < n, signal, noise)
    b = np.where(np.arange(2 * n) < n, noise, signal)
    return pd.DataFrame({"a": a, "b": b}), pd.Series(y), wf


def test_each_workflow_trusts_its_own_source() -> None:
    x, y, wf = _two_workflows(400, np.random.default_rng(0))
    fusion = Fusion.fit(x, y, workflows=wf)
    assert set(fusion.workflows) == {"wf-a", "wf-b"}
    coef_a = fusion.workflows["wf-a"].models["a+b"].coef
    coef_b = fusion.workflows["wf-b"].models["a+b"].coef
    assert abs(coef_a[0]) > 5 * abs(coef_a[1]) and abs(coef_b[1]) > 5 * abs(coef_b[0])
    xt, yt, wft = _two_workflows(200, np.random.default_rng(1))
    per_wf = fusion.predict_frame_by_workflow(xt, wft) >= fusion.thresholds_by_workflow(wft)
    pooled = fusion.for_workflow(None).predict_frame(xt) >= fusion.threshold
    assert (per_wf == yt.to_numpy()).mean() > 0.95 > (pooled == yt.to_numpy()).mean()


def test_unseen_or_small_workflow_falls_back_to_pooled() -> None:
    x, y, wf = _two_workflows(400, np.random.default_rng(2))
    wf = wf[:400] + ["wf-b"] * 300 + ["wf-tiny"] * 100  # wf-tiny: too few validation jobs
    fusion = Fusion.fit(x, y, workflows=wf, min_jobs=150)
    assert set(fusion.workflows) == {"wf-a", "wf-b"}
    pooled = fusion.model_copy(update={"workflows": {}})
    for name in ("wf-tiny", "never-seen", None):
        assert fusion.for_workflow(name) == pooled
    own = fusion.for_workflow("wf-a")
    assert own.threshold == fusion.workflows["wf-a"].threshold
    assert own.predict({"a": 0.9, "b": 0.1}) == fusion.workflows["wf-a"].predict({"a": 0.9, "b": 0.1})


def test_workflow_fit_borrows_pooled_models_for_subsets_it_lacks() -> None:
    x, y, wf = _two_workflows(400, np.random.default_rng(3))
    x["c"] = np.where(np.array(wf) == "wf-b", 0.5, np.nan)  # c only ever scored wf-b jobs
    fusion = Fusion.fit(x, y, workflows=wf)
    assert "a+b+c" not in fusion.workflows["wf-a"].models
    own = fusion.for_workflow("wf-a")
    scores = {"a": 0.8, "b": 0.3, "c": 0.5}
    assert own.predict(scores) == pytest.approx(fusion.models["a+b+c"].predict(scores))


def test_fitted_threshold_is_the_shared_f1_best_cut() -> None:
    x, y, wf = _two_workflows(300, np.random.default_rng(7))
    fusion = Fusion.fit(x, y, workflows=wf)
    assert fusion.threshold == best_f1_threshold(fusion.predict_frame(x), y.to_numpy())
    rows = np.array(wf) == "wf-a"
    own = fusion.workflows["wf-a"]
    xa = x[rows].reset_index(drop=True)
    assert own.threshold == best_f1_threshold(own.predict_frame(xa), y[rows].to_numpy())


def test_threshold_override_reaches_every_workflow() -> None:
    x, y, wf = _two_workflows(300, np.random.default_rng(4))
    fusion = Fusion.fit(x, y, workflows=wf).with_threshold(0.8)
    assert {fusion.for_workflow(w).threshold for w in ("wf-a", "wf-b", "other")} == {0.8}


def test_saved_fusion_round_trips_and_version_1_still_loads(tmp_path) -> None:
    x, y, wf = _two_workflows(300, np.random.default_rng(5))
    fusion = Fusion.fit(x, y, workflows=wf)
    fusion.save(tmp_path / "f.json")
    loaded = Fusion.load(tmp_path / "f.json")
    assert loaded == fusion and loaded.version == FORMAT_VERSION
    v1 = json.loads((tmp_path / "f.json").read_text())
    del v1["version"], v1["workflows"]
    (tmp_path / "v1.json").write_text(json.dumps(v1))
    old = Fusion.load(tmp_path / "v1.json")
    assert old.workflows == {} and old.for_workflow("wf-a").threshold == fusion.threshold
    (tmp_path / "v9.json").write_text(json.dumps({**v1, "version": FORMAT_VERSION + 7}))
    with pytest.raises(DataError, match="newer"):
        Fusion.load(tmp_path / "v9.json")


def test_workflow_from_too_few_runs_falls_back_to_pooled() -> None:
    x, y, wf = _two_workflows(400, np.random.default_rng(6))
    runs = [f"a-{i % 30}" for i in range(400)] + [f"b-{i % 5}" for i in range(400)]
    fusion = Fusion.fit(x, y, workflows=wf, runs=runs, min_runs=20)
    assert set(fusion.workflows) == {"wf-a"}
