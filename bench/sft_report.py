"""Merge the parts of bench/sft.py into bench/results/sft.json and a markdown report."""

from __future__ import annotations

import json
from typing import Any

from bench._common import RESULTS

COLS = (
    "workflow",
    "split",
    "scorer",
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


def write_report() -> None:
    parts = {
        p: json.loads((RESULTS / f"sft_{p}.json").read_text())
        for p in ("trees", "sft", "side")
        if (RESULTS / f"sft_{p}.json").exists()
    }
    (RESULTS / "sft.json").write_text(json.dumps(parts, indent=1))
    md = [
        "# Classifier benchmark (bench/sft.py)",
        "",
        "Test rows only; never trained or tuned on. `n` = test rows scored. Paper split = the "
        "published test/validation rows; run split = whole runs held out (60/20/20, stratified).",
        "Decision threshold and calibration are fitted on validation.",
        "",
    ]
    rows = [r for p in ("sft", "trees") for r in parts.get(p, {}).get("rows", [])]
    rows.sort(key=lambda r: (r["workflow"], r["split"], r["scorer"]))
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
            if r["scorer"] == "tree-context" and "multiclass" in r:
                m = r["multiclass"]
                md += [f"Confusion, {r['workflow']} {r['split']} split (rows true, columns predicted):", ""]
                md += _table(
                    [
                        {"true": c, **dict(zip(m["classes"], row, strict=True))}
                        for c, row in zip(m["classes"], m["confusion"], strict=True)
                    ],
                    ("true", *m["classes"]),
                )
                md.append("")
    for p in ("trees", "sft"):
        if parts.get(p, {}).get("transfer"):
            md += [
                f"## Transfer ({p}): train one workflow, test another",
                "",
                *_table(parts[p]["transfer"], ("scorer", "train", "test", "n", "f1", "roc_auc")),
                "",
            ]
    for p in ("sft", "side"):
        for key, val in parts.get(p, {}).get("experiments", {}).items():
            md += [f"## {key}", "", f"Protocol: {val.get('protocol', '')}", ""]
            if val.get("rows"):
                cols = tuple(val["rows"][0])
                md += [*_table(val["rows"], cols), ""]
    for p, v in parts.items():
        md += [
            f"Part `{p}`: `python bench/sft.py {' '.join(v['meta']['argv'])}`, "
            f"wall {v['meta']['wall_s']} s, torch/LightGBM threads {v['meta']['threads']}, "
            f"load average at end {v['meta']['load_avg_end']}",
            "",
        ]
    (RESULTS / "sft.md").write_text("\n".join(md) + "\n")
