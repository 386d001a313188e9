"""Collect the SFT rows of the lent-GPU runs (bench/sft_gpu.sh) from their logs into
bench/results/sft_gpu.json and .md. Stages cut by their time limit wrote no JSON; their
finished models printed one line each, which is what is parsed here.

    python bench/sft_gpu_report.py
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import RESULTS
from bench.sft_report import _table, write_report

GPU = RESULTS / "gpu"
# log -> how the stage was run (bench/sft_gpu.sh and its rerun); rows = training rows used
STAGES: dict[str, dict[str, Any]] = {
    "h100_genome.log": {
        "argv": "--part sft --workflows 1000-genome --sft-train 0 --epochs 2 --multiclass (cut at 230 s)",
        "train_rows": {"paper": 38469, "run": 28907},
        "epochs_max": 2,
    },
    "h100_genome_run.log": {
        "argv": "--part sft --workflows 1000-genome --splits run --sft-train 0 --epochs 2",
        "train_rows": {"paper": 38469, "run": 28907},
        "epochs_max": 2,
    },
    "h100_montage_pfs.log": {
        "argv": "--part sft --workflows montage predict-future-sales --sft-train 40000 --epochs 1 "
        "(cut at 200 s)",
        "train_rows": {"paper": 40000, "run": 40000},
        "epochs_max": 1,
    },
}
LINE = re.compile(r"(\S+) (paper|run) (sft-[\w-]+): (\{.*?\}) ([\d.]+) s")


def parse(log: Path, stage: dict[str, Any]) -> list[dict[str, Any]]:
    text = " ".join(log.read_text().split())  # rich wrapped the dicts over lines
    rows = []
    for wf, split, scorer, metrics, secs in LINE.findall(text):
        m = ast.literal_eval(metrics)
        rows.append(
            {
                "workflow": wf,
                "split": split,
                "scorer": scorer,
                "train_rows": stage["train_rows"][split],
                "epochs_max": stage["epochs_max"],
                "train_s": float(secs),
                **{k: m[k] for k in ("n", "accuracy", "f1", "precision", "recall", "roc_auc")},
                "log": log.name,
            }
        )
    return rows


def main() -> None:
    rows = [r for name, st in STAGES.items() if (GPU / name).exists() for r in parse(GPU / name, st)]
    side = json.loads((GPU / "sft_side_gpu_side.json").read_text())
    out = {"device": "NVIDIA H100 80GB HBM3 (lent machine), bf16 autocast", "rows": rows, "side": side}
    (RESULTS / "sft_gpu.json").write_text(json.dumps(out, indent=1))
    cols = ("workflow", "split", "scorer", "train_rows", "epochs_max", "train_s", "n")
    cols += ("accuracy", "f1", "precision", "recall", "roc_auc")
    md = [
        "# SFT on a lent GPU (bench/sft_gpu.sh)",
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
    md += ["Stages:", ""] + [f"- `{n}`: `python bench/sft.py {s['argv']}`" for n, s in STAGES.items()]
    (RESULTS / "sft_gpu.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    write_report()


if __name__ == "__main__":
    main()
