"""ONNX Runtime scoring of an SFT adapter: the adapter merged into the backbone, the transformer's
nodes fused, int8 close to PyTorch, exports cached by the weights' hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from flowsleuth.tools.classifier import load_scorer
from flowsleuth.tools.classifier.sft_onnx import attach, export
from flowsleuth.workflows.models import Run


def test_onnx_int8_scores_like_torch_through_a_fused_graph(
    tiny_adapter_set: Path, hdd_run: Run, tmp_path: Path
) -> None:
    import onnx

    scorers = load_scorer(tiny_adapter_set)
    jobs = hdd_run.job_ids[:24]
    torch_scores = scorers.score_jobs(hdd_run, jobs)["score"].to_numpy()  # type: ignore[attr-defined]
    general = scorers.for_workflow(hdd_run.workflow)  # type: ignore[attr-defined]
    path = export(general, tmp_path, "int8")
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert {"QAttention", "SkipLayerNormalization"} <= ops and "Softmax" not in ops  # fused
    assert not any("lora" in i.name for i in onnx.load(str(path)).graph.initializer)  # merged
    attach(scorers, tmp_path, "int8", threads=1)
    assert general.runtime is not None and general.runtime.path == path  # the cached export
    onnx_scores = scorers.score_jobs(hdd_run, jobs)["score"].to_numpy()  # type: ignore[attr-defined]
    assert np.abs(onnx_scores - torch_scores).max() < 0.05
    assert not np.array_equal(onnx_scores, torch_scores)  # it really is another runtime
