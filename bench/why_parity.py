"""How far ``why``'s SFT score moves when it comes from an ONNX export instead of PyTorch: the
shipped adapters, each on up to ``--jobs`` jobs of runs of its workflow, scored by PyTorch (fp32,
what ``why`` used before), by the cached fp32 export ``why`` now uses, and by the int8 export
``triage --sft`` uses (for comparison; issue #15 kept int8 off the default). Reports, per
adapter, the largest calibrated-score difference and how many predicted classes flip.

Runs: the bundled samples (never trained on) for 1000-genome, montage and predict-future-sales,
the first runs of Flow-Bench's extra eht_imaging and somospie zips, and for the ``general``
adapter the bundled 1000-genome hdd run scored through it directly.

Usage: nice .venv/bin/python -m bench.why_parity [--jobs 100] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench._common import machine, results_dir, write_results

EXTRA = Path("/work/shared/flowbench/extra")
SAMPLES = {
    "1000-genome": ["1000-genome-run0084", "1000-genome-run0009"],
    "montage": ["montage-run0747", "montage-run0536"],
    "predict-future-sales": ["predict-future-sales-run0083", "predict-future-sales-run0001"],
}
ZIPS = {"eht-imaging": "eht_imaging.zip", "somospie": "somospie.zip"}


def runs_of(adapter: str, n_jobs: int, work: Path) -> list[Any]:
    """Runs of ``adapter``'s workflow holding at least ``n_jobs`` jobs (fewer when none left)."""
    from flowsleuth.workflows.loader import load_run
    from flowsleuth.workflows.sample import sample_run

    if adapter == "general":
        return runs_of("1000-genome", n_jobs, work)
    if adapter in SAMPLES:
        paths = [sample_run(r) for r in SAMPLES[adapter]]
    else:
        with zipfile.ZipFile(EXTRA / ZIPS[adapter]) as z:
            names = sorted(m for m in z.namelist() if m.endswith(".csv"))[:40]
            paths = [Path(z.extract(m, work)) for m in names]
    runs, total = [], 0
    for p in paths:
        if total >= n_jobs:
            break
        runs.append(load_run(p))
        total += len(runs[-1])
    return runs


def scores(scorer: Any, runs: list[Any], n_jobs: int) -> pd.DataFrame:
    frames = [scorer.score_runs([r]) for r in runs]
    return pd.concat(frames).iloc[:n_jobs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        args.jobs = 8
    from flowsleuth.tools.classifier import load_scorer
    from flowsleuth.tools.classifier.sft_lazy import LazySFT
    from flowsleuth.tools.classifier.sft_onnx import attach
    from flowsleuth.tools.pretrained import pretrained_adapters_dir

    shipped = pretrained_adapters_dir()
    assert shipped is not None, "no shipped adapters"
    work = Path(tempfile.mkdtemp(prefix="flowsleuth-why-parity-"))
    torch_set = load_scorer(shipped)
    rows = []
    for name, torch_scorer in torch_set.adapters.items():  # type: ignore[attr-defined]
        runs = runs_of(name, args.jobs, work)
        ref = scores(torch_scorer, runs, args.jobs)
        lazy = LazySFT(shipped / name, work / "fp32", notes=[])
        lazy.for_workflow("any")
        lazy.export_pending()
        fp32 = LazySFT(shipped / name, work / "fp32", notes=[])
        assert fp32.for_workflow("any").runtime is not None  # type: ignore[union-attr]
        got32 = scores(fp32.for_workflow("any"), runs, args.jobs)
        int8_scorer = load_scorer(shipped / name)
        attach(int8_scorer, work / "int8", "int8")
        got8 = scores(int8_scorer, runs, args.jobs)
        d32 = np.abs(got32["score"].to_numpy() - ref["score"].to_numpy())
        d8 = np.abs(got8["score"].to_numpy() - ref["score"].to_numpy())
        rows.append(
            {
                "adapter": name,
                "jobs": len(ref),
                "fp32 ONNX: largest score difference": f"{d32.max():.2g}",
                "fp32 class flips": int(
                    (got32["pred_class"].to_numpy() != ref["pred_class"].to_numpy()).sum()
                ),
                "int8 ONNX: largest score difference": f"{d8.max():.2g}",
                "int8 mean score difference": f"{d8.mean():.2g}",
                "int8 class flips": int(
                    (got8["pred_class"].to_numpy() != ref["pred_class"].to_numpy()).sum()
                ),
            }
        )
        print(rows[-1], flush=True)
    meta = {
        "protocol": " ".join(__doc__.split("Usage:")[0].split()),
        "jobs per adapter": args.jobs,
        **machine(),
    }
    write_results("why_parity", rows, meta, "why's SFT score: ONNX vs PyTorch", results_dir(args.smoke))


if __name__ == "__main__":
    main()
