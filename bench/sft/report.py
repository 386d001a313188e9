"""Merge the parts of bench.sft into bench/results/sft.json and a markdown report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench._common import results_dir

COLS = (
    "workflow",
    "split",
    "scorer",
    "device",
    "train_rows",
    "epochs",
    "train_s",
    "jobs_per_s",
    "n",
    "accuracy",
    "f1",
    "precision",
    "recall",
    "roc_auc",
)


def _cell(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _table(rows: list[dict[str, Any]], cols: tuple[str, ...]) -> list[str]:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_cell(r.get(c, "")) for c in cols) + " |" for r in rows]
    return out


def _load(folder: Path, pattern: str) -> dict[str, Any]:
    """Result files matching ``pattern`` under ``folder``, by file stem."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob(pattern))}


def write_report(folder: Path | None = None) -> None:
    """Merge the part files in ``folder`` (default: the results folder) into sft.json and sft.md."""
    folder = folder or results_dir()
    parts = {**_load(folder, "sft_trees.json"), **_load(folder, "sft_sft*.json")}
    parts |= _load(folder, "sft_side*.json")
    gpu = _load(folder, "sft_gpu.json").get("sft_gpu", {})
    (folder / "sft.json").write_text(json.dumps(parts, indent=1))
    md = [
        "# Classifier benchmark (bench.sft)",
        "",
        "Test rows only; never trained or tuned on. `n` = test rows scored. Paper split = the "
        "published test/validation rows; run split = whole runs held out (60/20/20, stratified).",
        "Decision threshold and calibration are fitted on validation. `device` says where a model "
        "was trained: SFT rows marked H100 come from bench/sft/gpu.sh (see sft_gpu.md); "
        "`jobs_per_s` is always 2-core CPU scoring (empty where not measured on CPU).",
        "",
    ]
    rows = [{"device": "cpu", **r} for v in parts.values() for r in v.get("rows", [])]
    rows += [{**r, "device": "H100", "epochs": f"<={r['epochs_max']}"} for r in gpu.get("rows", [])]
    rows.sort(key=lambda r: (r["workflow"], r["split"], r["scorer"], r["device"]))
    md += ["## Binary detection", "", *_table(rows, COLS), ""]
    mc = [
        {
            "workflow": r["workflow"],
            "split": r["split"],
            "scorer": r["scorer"],
            "macro_f1": r["multiclass"]["macro_f1"],
        }
        for r in rows
        if "multiclass" in r
    ]
    if mc:
        md += [
            "## Multi-class (None, cpu_K, hdd_K)",
            "",
            *_table(mc, ("workflow", "split", "scorer", "macro_f1")),
            "",
        ]
        for r in rows:
            if r["scorer"] in ("tree-context", "sft-enriched-multiclass") and "multiclass" in r:
                m = r["multiclass"]
                md += [
                    f"Confusion, {r['scorer']}, {r['workflow']} {r['split']} split "
                    "(rows true, columns predicted):",
                    "",
                ]
                md += _table(
                    [
                        {"true": c, **dict(zip(m["classes"], row, strict=True))}
                        for c, row in zip(m["classes"], m["confusion"], strict=True)
                    ],
                    ("true", *m["classes"]),
                )
                md.append("")
    for p in parts:
        if parts[p].get("transfer"):
            md += [
                f"## Transfer ({p}): train one workflow, test another",
                "",
                *_table(parts[p]["transfer"], ("scorer", "train", "test", "n", "f1", "roc_auc")),
                "",
            ]
    gpu_side = gpu.get("side", {}).get("experiments", {})
    experiments = [e for v in parts.values() for e in v.get("experiments", {}).items()]
    experiments += [(f"{k} (run on the H100)", v) for k, v in gpu_side.items()]
    for key, val in experiments:
        proto = val.get("protocol", "").replace("None test rows", "all test rows")
        md += [f"## {key}", "", f"Protocol: {proto.replace('None paper-split', 'all paper-split')}", ""]
        if val.get("rows"):
            md += [*_table(val["rows"], tuple(val["rows"][0])), ""]
    adapters = folder / "sft_adapters_forgetting.json"
    if adapters.is_file():  # next to full fine-tuning's forgetting: swapped LoRA adapters
        f = json.loads(adapters.read_text())
        md += ["## Catastrophic forgetting, LoRA adapters swapped per workflow (CPU)", ""]
        md += [f"Protocol: {f['protocol']} Command: `{f['command']}`.", ""]
        md += [*_table(f["rows"], ("stage", "n", "f1", "roc_auc")), ""]
    for p, v in parts.items():
        md += [
            f"Part `{p}`: `python -m bench.sft {' '.join(v['meta']['argv'])}`, "
            f"wall {v['meta']['wall_s']} s, torch/LightGBM threads {v['meta']['threads']}, "
            f"load average at end {v['meta']['load_avg_end']}"
            + (f". Note: {v['meta']['note']}" if v["meta"].get("note") else ""),
            "",
        ]
    if gpu:
        md += ["H100 rows: `bench/sft/gpu.sh`, stages and commands in `sft_gpu.md`.", ""]
    (folder / "sft.md").write_text("\n".join(md) + "\n")
