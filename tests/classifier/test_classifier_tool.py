"""The agent-facing tools sft_score / tree_score and the demo model."""

from __future__ import annotations

from pathlib import Path

import pytest
from flowsleuth.tools.classifier import SCORERS, load_scorer, sft_score, train_default_tree, tree_score
from flowsleuth.workflows.contract import Services, Subject, ToolStatus
from flowsleuth.workflows.models import Run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo")
    train_default_tree(d)
    return d


def test_no_model_means_no_data(hdd_run: Run) -> None:
    for tool in (sft_score, tree_score):
        res = tool(Subject(hdd_run, hdd_run.job_ids[0]))
        assert res.status is ToolStatus.NO_DATA
        assert "no " in res.summary and "flowsleuth train" in res.summary
    assert sft_score.__doc__ and "probability" in sft_score.__doc__


def test_tree_score_for_a_job_and_a_run(demo: Path, hdd_run: Run) -> None:
    model = load_scorer(demo)
    assert model.meta.n_train_rows > 0 and model.name == "tree-demo"
    subject = Subject(hdd_run, services=Services({SCORERS: {"tree": model}}))
    anomalous = next(j for j, v in hdd_run.labels.items() if v != "None")  # type: ignore[union-attr]
    res = tree_score(subject.for_job(str(anomalous)))
    assert res.status is ToolStatus.OK, res.error
    assert 0 <= res.data["score"] <= 1 and res.data["pred_class"] in model.meta.labels
    assert set(res.data["class_probs"]) == set(model.meta.labels)
    assert res.data["model"]["name"] == "tree-demo"
    run_res = tree_score(subject)
    assert run_res.data["jobs"] == len(hdd_run) and len(run_res.data["top"]) == 5
    assert sft_score(subject).status is ToolStatus.NO_DATA  # a tree model is no SFT model


def test_unknown_job_is_an_error_result(demo: Path, hdd_run: Run) -> None:
    subject = Subject(hdd_run, "no-such-job", services=Services({SCORERS: {"tree": load_scorer(demo)}}))
    res = tree_score(subject)
    assert res.status is ToolStatus.ERROR and "no-such-job" in (res.error or "")
