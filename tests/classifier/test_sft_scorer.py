"""A tiny real fine-tune of the packaged MiniLM (a few dozen sentences, seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from flowsleuth.tools.classifier import ArtifactError, load_scorer
from flowsleuth.tools.classifier.sft import SFTScorer
from flowsleuth.tools.classifier.sft_train import TrainConfig
from flowsleuth.workflows.models import Run

CFG = TrainConfig(epochs=1, batch_size=8, eval_every=2, patience=2, progress=False, seed=7)


def _tiny(hdd_run: Run, normal_run: Run, template: str = "paper") -> SFTScorer:
    anomalous = [j for j, v in hdd_run.labels.items() if v != "None"][:16]  # type: ignore[union-attr]
    normal = hdd_run.job_ids[:8] + normal_run.job_ids[:8]
    train = {(hdd_run.run_id, j) for j in anomalous[:12] + normal[:6]} | {
        (normal_run.run_id, j) for j in normal[8:14]
    }
    val = {(hdd_run.run_id, j) for j in anomalous[12:] + normal[6:8]} | {
        (normal_run.run_id, j) for j in normal[14:]
    }
    return SFTScorer.fit(
        [hdd_run, normal_run],
        [hdd_run, normal_run],
        train_keys=train,
        val_keys=val,
        template=template,
        config=CFG,
    )


@pytest.fixture(scope="module")
def tiny(hdd_run: Run, normal_run: Run) -> SFTScorer:
    return _tiny(hdd_run, normal_run)


def test_fit_records_rows_and_calibration(tiny: SFTScorer) -> None:
    assert tiny.meta.n_train_rows == 24 and tiny.meta.n_val_rows == 8
    assert tiny.meta.labels == ["None", "anomalous"]
    assert tiny.meta.template == "paper-v1"
    assert tiny.meta.calibration.temperature > 0.0
    assert len(tiny.meta.data_hash) == 64


def test_save_load_round_trip_gives_identical_scores(tiny: SFTScorer, hdd_run: Run, tmp_path: Path) -> None:
    before = tiny.score_runs([hdd_run])
    loaded = load_scorer(tiny.save(tmp_path / "m"))
    after = loaded.score_runs([hdd_run])
    assert len(before) == len(hdd_run)
    np.testing.assert_allclose(before["score"], after["score"], rtol=0, atol=1e-6)
    assert (before["pred_class"] == after["pred_class"]).all()


def test_same_seed_same_model(tiny: SFTScorer, hdd_run: Run, normal_run: Run) -> None:
    again = _tiny(hdd_run, normal_run)
    assert again.meta.data_hash == tiny.meta.data_hash
    np.testing.assert_allclose(
        again.score_runs([hdd_run])["score"], tiny.score_runs([hdd_run])["score"], atol=1e-6
    )


def test_template_mismatch_is_a_clear_error(tiny: SFTScorer, tmp_path: Path) -> None:
    d = tiny.save(tmp_path / "m")
    with pytest.raises(ArtifactError, match="template 'paper-v1'.*'enriched-v1'"):
        load_scorer(d, template="enriched-v1")
    with pytest.raises(ArtifactError, match="label map"):
        load_scorer(d, labels=["None", "cpu", "hdd"])


def test_empty_and_nan_inputs(tiny: SFTScorer, hdd_run: Run) -> None:
    assert tiny.score_runs([]).empty
    frame = hdd_run.frame.head(3).copy()
    frame.loc[:, "runtime"] = np.nan
    nan_run = Run(hdd_run.workflow, "nan-run", "mem", frame)
    out = tiny.score_runs([nan_run])
    assert len(out) == 3 and out["score"].between(0, 1).all()


def test_enriched_sentences_carry_context(hdd_run: Run) -> None:
    from flowsleuth.tools.classifier.text import render_inputs

    paper = render_inputs(hdd_run, "paper")
    rich = render_inputs(hdd_run, "enriched")
    assert all(r.startswith(p) for p, r in zip(paper, rich, strict=True))
    assert "host_runtime_vs_peers is " in rich.iloc[0]


def test_labels_never_reach_the_sft_input(tiny: SFTScorer, hdd_run: Run) -> None:
    import pandas as pd
    from flowsleuth.tools.classifier.text import render_inputs

    shuffled = pd.Series(
        np.random.default_rng(1).permutation(hdd_run.labels.to_numpy()),  # type: ignore[union-attr]
        index=hdd_run.labels.index,  # type: ignore[union-attr]
    )
    mutated = Run(hdd_run.workflow, hdd_run.run_id, hdd_run.source, hdd_run.frame, shuffled, "cpu_4")
    for template in ("paper", "enriched", "compact", "short"):
        pd.testing.assert_series_equal(render_inputs(hdd_run, template), render_inputs(mutated, template))
    base = tiny.score_runs([hdd_run])["score"]
    for other in (mutated, hdd_run.without_labels()):
        np.testing.assert_array_equal(base, tiny.score_runs([other])["score"])


def test_default_length_keeps_whole_enriched_sentences(tiny: SFTScorer, hdd_run: Run) -> None:
    from flowsleuth.tools.classifier.text import render_inputs

    lengths = [len(ids) for ids in tiny.tokenizer(list(render_inputs(hdd_run, "enriched")))["input_ids"]]
    assert max(lengths) < TrainConfig().max_length


def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    import torch
    from flowsleuth.tools.classifier.sft_train import resolve_device
    from flowsleuth.workflows.errors import FlowsleuthError

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert resolve_device("auto") == "cpu"
    with pytest.raises(FlowsleuthError, match="no GPU"):
        resolve_device("cuda")
