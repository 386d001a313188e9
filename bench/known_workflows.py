"""Known workflows keep their own fit: the shipped models on the paper workflows' test runs,
scored through the product's scoring path (``Toolkit.deps`` -> ``score_run``) with the shipped
generalist loaded, as ``triage`` does, and with it left out.

Protocol: the test runs of the split by whole runs that built the shipped models
(scripts/build_models.py: seed 42, the bundled sample runs excluded), so nothing is measured on
runs the shipped models were fitted or tuned on. A fresh home (no models of its own: the shipped
ones). Reports per workflow the job F1 of each arm, the share of identical verdicts and the tiers
the verdicts carry. The issue's target is "no regression" against bench/results/pretrained.md
(FUSED per workflow on these runs). Reproduce: ``nice .venv/bin/python -m bench.known_workflows``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from flowsleuth.cli.app.settings import Settings
from flowsleuth.cli.app.toolkit import load_toolkit
from flowsleuth.workflows.labels import binary_label
from flowsleuth.workflows.sample import sample_runs
from sklearn.metrics import f1_score

from bench._common import command, machine, write_results
from bench.fusion import WORKFLOWS, load_parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-runs", type=int, default=None, help="test runs per workflow (first N)")
    a = ap.parse_args()
    part = load_parts(None, 42, exclude={p.stem for p in sample_runs()})
    kit = load_toolkit(Settings(home=Path(tempfile.mkdtemp(prefix="known-home-"))), llm=False, sft=False)
    judge = kit.generalist
    if judge is None:
        raise SystemExit("no shipped generalist models: nothing to compare")
    rows = []
    for wf in WORKFLOWS:
        runs = [r for r in part["test"] if r.workflow == wf][: a.max_runs]
        y: list[int] = []
        pred: dict[str, list[bool]] = {"with": [], "without": []}
        tiers: Counter[str] = Counter()
        secs = {"with": 0.0, "without": 0.0}
        for run in runs:
            y += [binary_label(v) for v in run.labels]
            blind = run.without_labels()
            for arm in ("with", "without"):
                kit.generalist = judge if arm == "with" else None
                t0 = time.perf_counter()
                d = kit.deps(blind).scores.decisions
                secs[arm] += time.perf_counter() - t0
                pred[arm] += [d[j].is_anomalous for j in run.job_ids]
                if arm == "with":
                    tiers.update(str(d[j].tier) for j in run.job_ids)
        same = float(np.mean(np.array(pred["with"]) == np.array(pred["without"])))
        rows.append(
            {
                "workflow": wf,
                "test_runs": len(runs),
                "jobs": len(y),
                "f1_with_generalist": round(float(f1_score(y, pred["with"])), 3),
                "f1_without_generalist": round(float(f1_score(y, pred["without"])), 3),
                "identical_verdicts": round(same, 4),
                "tiers": dict(tiers),
                "seconds_with": round(secs["with"], 1),
                "seconds_without": round(secs["without"], 1),
            }
        )
        print(rows[-1], flush=True)
    meta = {
        "command": command(),
        **machine(),
        "protocol": "test runs of the seed-42 split by whole runs (bundled sample runs excluded), "
        "shipped models in a fresh home, scored through Toolkit.deps/score_run with and without "
        "the shipped generalist",
        "compare_with": "bench/results/pretrained.md, FUSED per workflow (.813 / .710 / .925)",
    }
    write_results("known_workflows", rows, meta, "Known workflows keep their own fit (shipped models)")


if __name__ == "__main__":
    main()
