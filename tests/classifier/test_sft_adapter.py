"""Tiny LoRA adapters on the packaged MiniLM (a few dozen sentences, seconds): artifacts, the
per-workflow set and its zero forgetting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from flowsleuth.tools.classifier import load_scorer
from flowsleuth.tools.classifier.sft import SFTScorer
from flowsleuth.tools.classifier.sft_adapter import PACKAGED_BACKBONE, LoraSpec
from flowsleuth.tools.classifier.sft_set import AdapterSet
from flowsleuth.tools.classifier.sft_train import TrainConfig
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run

CFG = TrainConfig(epochs=1, batch_size=8, lr=5e-4, eval_every=2, patience=2, progress=False, seed=7)
SPEC = LoraSpec(r=4, alpha=8)


def _as(run: Run, workflow: str, n: int = 24) -> Run:
    """The first ``n`` jobs of ``run``, as a run of ``workflow``."""
    labels = run.labels.iloc[:n] if run.labels is not None else None
    return Run(workflow, run.run_id, run.source, run.frame.iloc[:n], labels, run.injected)


def _adapter(hdd_run: Run, normal_run: Run, seed: int = 7) -> SFTScorer:
    anomalous = [j for j, v in hdd_run.labels.items() if v != "None"][:16]  # type: ignore[union-attr]
    normal = normal_run.job_ids[:16]
    train = {(hdd_run.run_id, j) for j in anomalous[:12]} | {(normal_run.run_id, j) for j in normal[:12]}
    val = {(hdd_run.run_id, j) for j in anomalous[12:]} | {(normal_run.run_id, j) for j in normal[12:]}
    cfg = TrainConfig(**{**CFG.__dict__, "seed": seed})
    return SFTScorer.fit(
        [hdd_run, normal_run], [hdd_run, normal_run], train_keys=train, val_keys=val, config=cfg, adapter=SPEC
    )


@pytest.fixture(scope="module")
def genome(hdd_run: Run, normal_run: Run) -> SFTScorer:
    return _adapter(hdd_run, normal_run)


@pytest.fixture(scope="module")
def other(cpu_run: Run, normal_run: Run) -> SFTScorer:
    return _adapter(cpu_run, normal_run, seed=11)


def test_adapter_artifact_is_small_and_names_the_packaged_backbone(genome: SFTScorer, tmp_path: Path) -> None:
    d = genome.save(tmp_path / "a")
    files = {p.relative_to(d).as_posix(): p.stat().st_size for p in d.rglob("*") if p.is_file()}
    assert set(files) == {"meta.json", "adapter/adapter_config.json", "adapter/adapter_model.safetensors"}
    assert sum(files.values()) < 2_000_000  # the backbone (90 MB) is not copied
    assert genome.meta.backbone == PACKAGED_BACKBONE
    cfg = json.loads((d / "adapter" / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == PACKAGED_BACKBONE and cfg["r"] == 4


def test_adapter_round_trip_gives_identical_scores(genome: SFTScorer, hdd_run: Run, tmp_path: Path) -> None:
    run = _as(hdd_run, hdd_run.workflow)
    before = genome.score_runs([run])
    after = load_scorer(genome.save(tmp_path / "a")).score_runs([run])
    np.testing.assert_allclose(before["score"], after["score"], rtol=0, atol=1e-6)
    assert (before["pred_class"] == after["pred_class"]).all()


def test_only_the_adapter_trains(genome: SFTScorer) -> None:
    trainable = sum(p.numel() for p in genome.model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in genome.model.parameters())
    assert 0 < trainable < 0.05 * total


def test_set_swaps_adapters_per_workflow_without_forgetting(
    genome: SFTScorer, other: SFTScorer, hdd_run: Run, tmp_path: Path
) -> None:
    alone = load_scorer(AdapterSet.of({"1000-genome": genome}).save(tmp_path / "one"))
    both = load_scorer(
        AdapterSet.of({"1000-genome": genome, "montage": other, "general": other}).save(tmp_path / "two")
    )
    run = _as(hdd_run, "1000-genome")
    own = alone.score_runs([run])["score"].to_numpy()
    np.testing.assert_allclose(own, genome.score_runs([run])["score"], atol=1e-6)
    # adding (and scoring with) another workflow's adapter leaves 1000 Genome's scores unchanged
    both.score_runs([_as(hdd_run, "montage")])
    np.testing.assert_allclose(both.score_runs([run])["score"], own, atol=1e-6)
    # another workflow gets its own adapter; an unknown one the general adapter
    theirs = other.score_runs([run])["score"].to_numpy()
    assert not np.allclose(theirs, own, atol=1e-4)
    np.testing.assert_allclose(both.score_runs([_as(hdd_run, "somospie")])["score"], theirs, atol=1e-6)


def test_unknown_workflow_without_general_adapter_is_a_clear_error(genome: SFTScorer, hdd_run: Run) -> None:
    scorers = AdapterSet.of({"1000-genome": genome})
    with pytest.raises(FlowsleuthError, match="no SFT adapter for workflow 'montage'"):
        scorers.score_runs([_as(hdd_run, "montage")])
