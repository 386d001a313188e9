"""``why``'s SFT scoring: each adapter through its cached fp32 ONNX export (no torch), equal to
PyTorch within a stated tolerance; a bad cached export is noticed, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from flowsleuth.tools.classifier import ArtifactError, load_scorer
from flowsleuth.tools.classifier.sft_cache import (
    PROBES,
    CacheError,
    FastTokenizer,
    open_cached,
    tokenizer_file,
)
from flowsleuth.tools.classifier.sft_lazy import LazySFT
from flowsleuth.tools.classifier.text import render_inputs
from flowsleuth.workflows.models import Run

# Largest calibrated-score difference accepted between the fp32 export and PyTorch. Measured on
# the shipped adapters: 7.4e-7 at most over 600 jobs, 100 per adapter, no class flipped
# (bench/results/why_parity.md); `why` rounds the score to four decimals.
SCORE_TOL = 1e-5


def _cached(directory: Path, cache: Path, run: Run) -> LazySFT:
    """A LazySFT whose adapter for ``run`` is exported to ``cache`` (by a first, torch-scored load)."""
    first = LazySFT(directory, cache, notes=[])
    assert first.for_workflow(run.workflow).runtime is None  # type: ignore[union-attr]  # no export yet: PyTorch
    first.export_pending()
    assert not first.notes, first.notes
    return LazySFT(directory, cache, notes=[])


@pytest.mark.parametrize("layout", ["adapter set", "one adapter"])
def test_cached_onnx_export_scores_like_torch(
    tiny_adapter_set: Path, hdd_run: Run, tmp_path: Path, layout: str
) -> None:
    directory = tiny_adapter_set if layout == "adapter set" else tiny_adapter_set / "general"
    jobs = hdd_run.job_ids[:40]
    want = load_scorer(directory).score_jobs(hdd_run, jobs)  # type: ignore[attr-defined]
    lazy = _cached(directory, tmp_path, hdd_run)
    got = lazy.score_jobs(hdd_run, jobs)
    assert lazy.for_workflow(hdd_run.workflow).runtime is not None  # type: ignore[union-attr]  # really ONNX
    assert np.abs(got["score"].to_numpy() - want["score"].to_numpy()).max() < SCORE_TOL
    assert list(got["pred_class"]) == list(want["pred_class"])
    assert lazy.notes == []


def test_fast_tokenizer_gives_the_transformers_ids(tiny_adapter_set: Path, hdd_run: Run) -> None:
    from transformers import AutoTokenizer

    meta = load_scorer(tiny_adapter_set / "general").meta
    path = tokenizer_file(tiny_adapter_set / "general", meta)
    hf = AutoTokenizer.from_pretrained(path.parent)
    texts = [*PROBES, *(t for tpl in ("paper", "enriched", "short") for t in render_inputs(hdd_run, tpl)[:5])]
    texts.append("x " * 400)  # longer than max_length: truncated the same way
    for n in (16, 128):
        want = hf(texts, truncation=True, max_length=n)
        got = FastTokenizer(path, hf.pad_token_id)(texts, truncation=True, max_length=n)
        assert got["input_ids"] == want["input_ids"]
        assert got["attention_mask"] == want["attention_mask"]


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _garble(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = bytes(4096)  # zeros inside the weights
    p.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_truncate, _garble])
def test_a_damaged_export_is_noticed_scored_with_torch_and_rebuilt(
    tiny_adapter_set: Path, hdd_run: Run, tmp_path: Path, damage: object
) -> None:
    jobs = hdd_run.job_ids[:8]
    good = _cached(tiny_adapter_set, tmp_path, hdd_run).score_jobs(hdd_run, jobs)["score"].to_numpy()
    (path,) = tmp_path.glob("sft-*.onnx")
    damage(path)  # type: ignore[operator]
    lazy = LazySFT(tiny_adapter_set, tmp_path, notes=[])
    scores = lazy.score_jobs(hdd_run, jobs)["score"].to_numpy()  # no exception: PyTorch scores
    assert lazy.for_workflow(hdd_run.workflow).runtime is None  # type: ignore[union-attr]
    assert np.abs(scores - good).max() < SCORE_TOL
    (note,) = lazy.notes
    assert "SFT export cache of" in note and "partial or corrupt" in note and "scoring with PyTorch" in note
    lazy.export_pending()  # rebuilt in place
    again = LazySFT(tiny_adapter_set, tmp_path, notes=[])
    assert again.for_workflow(hdd_run.workflow).runtime is not None  # type: ignore[union-attr]
    assert again.notes == [] and [p.name for p in tmp_path.iterdir() if p.suffix == ".onnx"] == [path.name]
    assert not list(tmp_path.glob(".build-*"))  # no temporary left behind


def test_an_export_of_other_weights_is_not_used(tiny_adapter_set: Path, hdd_run: Run, tmp_path: Path) -> None:
    lazy = _cached(tiny_adapter_set, tmp_path, hdd_run)
    (path,) = tmp_path.glob("sft-*.onnx")
    path.rename(path.with_name(path.name.replace(path.name.split("-")[1], "0" * 24)))  # another key's

    with pytest.raises(CacheError, match="other weights"):
        open_cached(tmp_path, "0" * 24, tokenizer_file(tiny_adapter_set, lazy.meta), 128, 1)


def test_an_artifact_without_its_weights_fails_when_loaded_not_when_scored(
    tiny_adapter_set: Path, tmp_path: Path
) -> None:
    """As with loading every weight at once, so a home's broken SFT model still makes the
    toolkit fall back to the shipped models."""
    import shutil

    broken = tmp_path / "set"
    shutil.copytree(tiny_adapter_set, broken)
    (broken / "general" / "adapter" / "adapter_config.json").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        LazySFT(broken, tmp_path / "cache", notes=[])
