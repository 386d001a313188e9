"""The models shipped in tools/pretrained load, score a bundled run, and never saw one."""

from __future__ import annotations

import pytest
from flowsleuth.tools.classifier import TreeScorer, load_scorer
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.diagnosis import RUN_CLASSES, DiagnosisModel, diagnose_run
from flowsleuth.tools.pretrained import pretrained_models_dir, provenance
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sample import sample_run, sample_runs

WORKFLOWS = {"1000-genome", "montage", "predict-future-sales"}


@pytest.fixture(scope="module")
def shipped():
    d = pretrained_models_dir()
    assert d is not None, "tools/pretrained/models is missing: run make models"
    return d


def test_shipped_models_are_small_and_complete(shipped) -> None:
    for part in ("tree/meta.json", "diagnosis", "baseline.json", "fusion.json"):
        assert (shipped / part).exists(), part
    size = sum(p.stat().st_size for p in shipped.rglob("*") if p.is_file())
    assert size < 10 * 2**20  # a few MB: shipped in every wheel


def test_pretrained_tree_scores_a_bundled_run(shipped) -> None:
    scorer = load_scorer(shipped / "tree")
    assert isinstance(scorer, TreeScorer) and scorer.meta.task == "multiclass"
    run = load_run(sample_run("1000-genome-run0084")).without_labels()
    out = scorer.score_runs([run])
    assert len(out) == len(run) and out["score"].between(0, 1).all()
    assert set(out["pred_class"]) <= set(scorer.meta.labels)


def test_pretrained_diagnosis_and_fusion_load(shipped) -> None:
    diag = diagnose_run(
        load_run(sample_run("montage-run0747")).without_labels(), DiagnosisModel.load(shipped / "diagnosis")
    )
    assert diag.label in RUN_CLASSES
    fusion = Fusion.load(shipped / "fusion.json")
    assert set(fusion.workflows) == WORKFLOWS
    assert {"run_diagnosis", "tree_score"} <= set(fusion.sources)


def test_no_bundled_run_was_used_to_build_them(shipped) -> None:
    used = provenance()
    seen = set(used["train_runs"]) | set(used["validation_runs"]) | set(used["test_runs"])
    assert seen and not seen & {p.stem for p in sample_runs()}
