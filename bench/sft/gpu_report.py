"""Collect the SFT rows of the lent-GPU runs (bench/sft/gpu.sh) into bench/results/sft_gpu.json
and .md. Each stage appends one JSON line per finished model (``--rows-jsonl``), so a stage cut
by its time limit still leaves the rows it finished.

    python -m bench.sft.gpu_report
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench._common import RESULTS, results_dir
from bench.sft.report import _table, write_report

GPU = RESULTS / "gpu"
# stage -> how it was run (bench/sft/gpu.sh and its rerun). These H100 stages predate
# --rows-jsonl: their .jsonl files were converted once from the stage logs (kept beside them).
STAGES: dict[str, dict[str, Any]] = {
    "h100_genome": {
        "argv": "--part sft --workflows 1000-genome --sft-train 0 --epochs 2 --multiclass (cut at 230 s)",
        "epochs_max": 2,
    },
    "h100_genome_run": {
        "argv": "--part sft --workflows 1000-genome --splits run --sft-train 0 --epochs 2",
        "epochs_max": 2,
    },
    "h100_montage_pfs": {
        "argv": "--part sft --workflows montage predict-future-sales --sft-train 40000 --epochs 1 "
        "(cut at 200 s)",
        "epochs_max": 1,
    },
}
METRICS = ("n", "accuracy", "f1", "precision", "recall", "roc_auc")


def read_rows(path: Path, stage: dict[str, Any]) -> list[dict[str, Any]]:
    """The finished models of one stage, one JSON object per line."""
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            rows.append(
                {
                    **{k: r[k] for k in ("workflow", "split", "scorer", "train_rows", "train_s")},
                    "epochs_max": stage["epochs_max"],
                    **{k: r[k] for k in METRICS},
                    "stage": path.stem,
                }
            )
    return rows


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    files = {name: GPU / f"{name}.jsonl" for name in STAGES}
    rows = [r for name, f in files.items() if f.exists() for r in read_rows(f, STAGES[name])]
    side = json.loads((GPU / "sft_side_gpu_side.json").read_text())
    out = {"device": "NVIDIA H100 80GB HBM3 (lent machine), bf16 autocast", "rows": rows, "side": side}
    (results_dir() / "sft_gpu.json").write_text(json.dumps(out, indent=1))
    cols = ("workflow", "split", "scorer", "train_rows", "epochs_max", "train_s", "n")
    cols += ("accuracy", "f1", "precision", "recall", "roc_auc")
    md = [
        "# SFT on a lent GPU (bench/sft/gpu.sh)",
        "",
        "MiniLM (packaged all-MiniLM-L6-v2, weights carried as fp16 and trained in fp32 with bf16 "
        "autocast), batch 32, lr 5e-5, class-weighted loss, early stopping on 2,000 validation rows "
        "(ROC-AUC every quarter epoch), temperature calibration and threshold fitted on those rows. "
        "Test rows: all of the split's test part. Device: one NVIDIA H100; `train_s` is H100 time, "
        "not 2-core CPU time.",
        "",
        *_table(rows, cols),
        "",
    ]
    for key, val in side["experiments"].items():
        proto = val.get("protocol", "").replace("None test rows", "all test rows")
        proto = proto.replace("None paper-split", "all paper-split")
        md += [f"## {key} (H100)", "", f"Protocol: {proto}", ""]
        md += [*_table(val["rows"], tuple(val["rows"][0])), ""]
    md += ["Stages:", ""] + [f"- `{n}`: `python -m bench.sft {s['argv']}`" for n, s in STAGES.items()]
    (results_dir() / "sft_gpu.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    write_report()


if __name__ == "__main__":
    main()
