"""Fused F1 with and without the SFT source, per workflow (a part of bench/sft/adapters.py).

Sources: the shipped tree and run diagnosis (tools/pretrained, fitted on train runs of the same
split by whole runs) and the workflow's SFT adapter (ONNX int8). A fusion is fitted on sampled
validation jobs with and without ``sft_score``, and both are measured on sampled test jobs of
unseen runs at their own F1-best validation threshold.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.sft.adapters_data import _split_keys, load_any
from bench.sft.data import subsample_keys


def _scores(kit: Any, sft: Any, runs: dict[str, Any], keys: set[tuple[str, str]]) -> pd.DataFrame:
    by_run: dict[str, list[str]] = defaultdict(list)
    for r, j in sorted(keys):
        by_run[r].append(j)
    frames = []
    for run_id, jobs in by_run.items():
        run = runs[run_id]
        scores = kit.deps(run).scores.source_frame()
        part = scores.loc[jobs, ["tree_score", "run_diagnosis"]].copy()
        part["sft_score"] = sft.score_jobs(run, jobs).set_index("node_id").loc[jobs, "score"].to_numpy()
        part["y"] = (run.labels.loc[jobs].to_numpy() != "None").astype(int)
        frames.append(part)
    return pd.concat(frames)


def run_fusion(workflows: list[str], save: Path, cache: Path, n_val: int, n_test: int) -> dict[str, Any]:
    from flowsleuth.cli.app.settings import Settings
    from flowsleuth.cli.app.toolkit import load_toolkit
    from flowsleuth.tools.classifier import load_scorer
    from flowsleuth.tools.classifier.metrics import binary_metrics
    from flowsleuth.tools.classifier.sft_onnx import attach
    from flowsleuth.tools.decision.fusion import Fusion

    with tempfile.TemporaryDirectory() as home:
        kit = load_toolkit(Settings(home=Path(home)), llm=False, sft=False)  # the shipped models
    rows = []
    for wf in workflows:
        adapter = save / wf if (save / wf).is_dir() else save / "general"
        sft = attach(load_scorer(adapter), cache / "onnx", "int8")
        runs = {r.run_id: r for r in load_any(wf, cache)}
        keys = _split_keys(list(runs.values()))
        val = _scores(kit, sft, runs, subsample_keys(keys["validation"], n_val, seed=1))
        test = _scores(kit, sft, runs, subsample_keys(keys["test"], n_test, seed=1))
        for sources in (["tree_score", "run_diagnosis"], ["tree_score", "run_diagnosis", "sft_score"]):
            fit = Fusion.fit(val[sources], val["y"])
            score = np.nan_to_num(fit.predict_frame(test[sources]), nan=0.0)
            m = binary_metrics(test["y"].to_numpy(), score, fit.threshold)
            rows.append(
                {
                    "workflow": wf,
                    "sft_adapter": adapter.name,
                    "sources": "+".join(sources),
                    "n_val": len(val),
                    **{k: round(float(v), 4) for k, v in m.items()},
                }
            )
    return {"name": "fusion", "rows": rows}
