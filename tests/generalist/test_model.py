from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from flowsleuth.tools.generalist import model as gmodel
from flowsleuth.tools.generalist.model import GeneralistModel
from flowsleuth.tools.generalist.runkind import RunKindModel
from flowsleuth.tools.generalist.train import features_for, fit_all, host_keys, labels_of, stack
from flowsleuth.workflows.splits import lowo_split


def test_lowo_split_keeps_the_held_out_workflow_out_of_training() -> None:
    pairs = [("a-run1", "a"), ("a-run2", "a"), ("b-run1", "b"), ("c-run1", "c")]
    s = lowo_split(pairs, "a")
    assert s.test == {"a-run1", "a-run2"}
    assert s.train == {"b-run1", "c-run1"}
    with pytest.raises(ValueError, match="appears under"):
        lowo_split([*pairs, ("a-run1", "b")], "a")
    with pytest.raises(ValueError, match="no run"):
        lowo_split(pairs, "zzz")


def test_out_of_workflow_scores_never_see_their_own_workflow(three_workflows, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Calibration and threshold come from scores of workflows the scoring booster never saw."""
    runs = three_workflows
    frame = stack(runs).reset_index(drop=True)
    feats = features_for(runs)
    feats.index = frame["workflow"] + ":" + pd.RangeIndex(len(frame)).astype(str)
    events: list[tuple[str, frozenset[str]]] = []
    real = gmodel._booster

    class Spy:
        def __init__(self, booster: object, trained: frozenset[str]) -> None:
            self.booster, self.trained = booster, trained

        def predict(self, x: pd.DataFrame) -> np.ndarray:
            events.append(("predict", frozenset(x.index.str.split(":").str[0]) & self.trained))
            return self.booster.predict(x)  # type: ignore[attr-defined]

    def spy(x, y, w, rounds, params):  # type: ignore[no-untyped-def]
        trained = frozenset(x.index.str.split(":").str[0])
        events.append(("fit", trained))
        return Spy(real(x, y, w, 20, params), trained)

    monkeypatch.setattr(gmodel, "_booster", spy)
    hosts = host_keys(frame)
    hosts.index = feats.index
    gmodel.fit_generalist(
        feats, labels_of(runs), pd.Series(frame["workflow"].to_numpy(), index=feats.index), hosts
    )
    fits = [t for e, t in events if e == "fit"]
    assert sorted(map(len, fits)) == [2, 2, 2, 3]  # three leave-one-out fits, then the final one
    assert [t for e, t in events if e == "predict"] == [frozenset()] * 3


def test_fit_score_save_load(three_workflows, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, kind = fit_all(three_workflows, rounds=30)
    assert 0.05 <= model.threshold <= 0.95
    model.save(tmp_path / "g")
    kind.save(tmp_path / "g")
    back = GeneralistModel.load(tmp_path / "g")
    RunKindModel.load(tmp_path / "g")
    runs = three_workflows[:3]
    frame = stack(runs).reset_index(drop=True)
    f = features_for(runs)
    np.testing.assert_allclose(back.proba(f, host_keys(frame)), model.proba(f, host_keys(frame)))
    y = labels_of(runs)
    p = model.proba(f, host_keys(frame))
    assert p[y == 1].mean() > p[y == 0].mean() + 0.3


def test_load_refuses_garbage(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from flowsleuth.workflows.errors import DataError

    (tmp_path / "meta.json").write_text("{nope")
    (tmp_path / "model.txt").write_text("")
    with pytest.raises(DataError, match="not a generalist model"):
        GeneralistModel.load(tmp_path)


def test_adapted_threshold_comes_from_held_out_labelled_runs(three_workflows, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With two labelled runs or more, each labelled run is scored by a model adapted to the
    others only, and the setting and threshold are chosen on those scores; with one run, the
    default setting and the base threshold."""
    from flowsleuth.tools.generalist import adapt as gadapt
    from flowsleuth.tools.generalist.adapt import Adapted, adapt

    from .conftest import synth_runs

    model, _ = fit_all(three_workflows, rounds=30)
    new = synth_runs("delta", 3, scale=5.0, seed=9)  # normal, cpu_2, hdd_5
    frame = stack(new).reset_index(drop=True)
    f, y, hosts = features_for(new), labels_of(new), host_keys(frame)
    runs = frame["run_id"]
    seen: list[tuple[frozenset[str], frozenset[str]]] = []
    real = Adapted.proba

    def spy(self, feats, h):  # type: ignore[no-untyped-def]
        fitted_on = frozenset(self.rows.index.map(lambda i: runs_of_rows[i]))
        seen.append((fitted_on, frozenset(h.str.split("\x1f").str[0])))
        return real(self, feats, h)

    one = adapt(
        model,
        f[runs == new[1].run_id],
        y[(runs == new[1].run_id).to_numpy()],
        hosts[runs == new[1].run_id],
        1,
        runs=runs[runs == new[1].run_id],
    )
    assert np.isnan(one.threshold) and one.decision_threshold == model.threshold
    runs_of_rows: dict[int, str] = {}
    monkeypatch.setattr(gadapt.Adapted, "proba", spy)
    orig = gadapt._adapt

    def track(base, feats, yy, hh, *rest):  # type: ignore[no-untyped-def]
        ad = orig(base, feats, yy, hh, *rest)
        runs_of_rows.clear()
        runs_of_rows.update(dict(enumerate(hh.str.split("\x1f").str[0])))
        return ad

    monkeypatch.setattr(gadapt, "_adapt", track)
    ad = adapt(model, f, y, hosts, 3, runs=runs)
    assert seen and all(not (fit & scored) for fit, scored in seen)  # never scored on its own rows
    assert len(seen) == 3 * len(gadapt.CHOICES)  # every setting, every labelled run held out once
    assert 0.0 < ad.threshold < 1.0 and ad.decision_threshold == ad.threshold
    ad.save(tmp_path / "a")
    back = Adapted.load(tmp_path / "a")
    assert (back.threshold, back.knn) == (ad.threshold, ad.knn)
