"""The LightGBM scorer on the bundled sample: contract, artifact, determinism, label isolation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flowsleuth.tools.classifier import ArtifactError, Scorer, load_scorer
from flowsleuth.tools.classifier.features import tree_features
from flowsleuth.tools.classifier.scorer import SCORE_COLUMNS
from flowsleuth.tools.classifier.tree import TreeScorer
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.models import Run


def _fit(runs: list[Run], split: tuple[set, set], **kw: object) -> TreeScorer:
    return TreeScorer.fit(
        runs,
        runs,
        train_keys=split[0],
        val_keys=split[1],
        max_rounds=60,
        baseline=BaselineProfile.fit(runs),
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tree(sample_loaded: list[Run], job_split: tuple[set, set]) -> TreeScorer:
    return _fit(sample_loaded, job_split)


def test_output_contract(tree: TreeScorer, sample_loaded: list[Run]) -> None:
    assert isinstance(tree, Scorer)
    runs = sample_loaded[:3]
    out = tree.score_runs(runs)
    assert tuple(out.columns) == SCORE_COLUMNS
    assert list(out.index) == [j for r in runs for j in r.job_ids]
    assert out["score"].between(0, 1).all()
    assert set(out["pred_class"]) <= set(tree.meta.labels)
    probs = out["class_probs"].iloc[0]
    assert set(probs) == set(tree.meta.labels) and abs(sum(probs.values()) - 1) < 1e-3


def test_it_detects_the_injected_anomaly(
    tree: TreeScorer, sample_loaded: list[Run], job_split: tuple[set, set]
) -> None:
    out = tree.score_runs(sample_loaded)
    val = [(r, n) in job_split[1] for r, n in zip(out.run_id, out.node_id, strict=True)]
    truth = np.concatenate([r.labels.to_numpy() for r in sample_loaded])[val]  # type: ignore[union-attr]
    y = truth != "None"
    assert out["score"][val][y].mean() > out["score"][val][~y].mean() + 0.3


def test_round_trip_and_same_seed(
    tree: TreeScorer, sample_loaded: list[Run], job_split: tuple[set, set], tmp_path: Path
) -> None:
    loaded = load_scorer(tree.save(tmp_path / "t"))
    a, b = tree.score_runs(sample_loaded), loaded.score_runs(sample_loaded)
    np.testing.assert_allclose(a["score"], b["score"], atol=1e-9)
    again = _fit(sample_loaded, job_split)
    assert again.meta.data_hash == tree.meta.data_hash
    np.testing.assert_allclose(again.score_runs(sample_loaded)["score"], a["score"], atol=1e-9)


def test_artifact_errors(tree: TreeScorer, tmp_path: Path) -> None:
    d = tree.save(tmp_path / "t")
    with pytest.raises(ArtifactError, match="template"):
        load_scorer(d, template="paper-v1")
    with pytest.raises(ArtifactError, match="label map"):
        load_scorer(d, labels=["None", "anomalous"])
    with pytest.raises(ArtifactError, match="tree model, but a sft"):
        load_scorer(d, kind="sft")
    with pytest.raises(ArtifactError, match="not a flowsleuth model"):
        load_scorer(tmp_path)
    (d / "meta.json").write_text("{broken")
    with pytest.raises(ArtifactError, match="unreadable"):
        load_scorer(d)


def test_empty_list_and_nan_features(tree: TreeScorer, hdd_run: Run) -> None:
    empty = tree.score_runs([])
    assert empty.empty and tuple(empty.columns) == SCORE_COLUMNS
    frame = hdd_run.frame.head(5).copy()
    frame.loc[:, ["runtime", "kickstart_online_iowait", "stage_in_bytes"]] = np.nan
    out = tree.score_runs([Run(hdd_run.workflow, "nan-run", "mem", frame)])
    assert len(out) == 5 and out["score"].notna().all()


def test_labels_never_reach_features(tree: TreeScorer, hdd_run: Run) -> None:
    rng = np.random.default_rng(1)
    shuffled = pd.Series(rng.permutation(hdd_run.labels.to_numpy()), index=hdd_run.labels.index)  # type: ignore[union-attr]
    mutated = Run(hdd_run.workflow, hdd_run.run_id, hdd_run.source, hdd_run.frame, shuffled, "cpu_4")
    unlabelled = hdd_run.without_labels()
    assert "anomaly_type" not in tree.meta.feature_names
    pd.testing.assert_frame_equal(tree_features(hdd_run), tree_features(mutated))
    base = tree.score_runs([hdd_run])
    for other in (mutated, unlabelled):
        np.testing.assert_array_equal(base["score"], tree.score_runs([other])["score"])


def test_class_weights_change_the_model(
    sample_loaded: list[Run], job_split: tuple[set, set], tree: TreeScorer
) -> None:
    plain = _fit(sample_loaded, job_split, balance="none")
    a = tree.score_runs(sample_loaded)["score"].to_numpy()
    b = plain.score_runs(sample_loaded)["score"].to_numpy()
    assert not np.allclose(a, b)


def test_paper_feature_set_uses_only_the_nine_features(
    sample_loaded: list[Run], job_split: tuple[set, set]
) -> None:
    m = TreeScorer.fit(
        sample_loaded,
        sample_loaded,
        train_keys=job_split[0],
        val_keys=job_split[1],
        feature_set="paper",
        task="binary",
        max_rounds=30,
    )
    assert len(m.meta.feature_names) == 9 and m.meta.labels == ["None", "anomalous"]
    assert set(m.score_runs(sample_loaded[:1])["pred_class"]) <= {"None", "anomalous"}
