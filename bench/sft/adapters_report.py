"""Merge bench/sft/adapters.py parts into bench/results/sft_adapters.{json,md}."""

from __future__ import annotations

import json
from typing import Any

from bench._common import RESULTS

_COLS = (
    "workflow",
    "adapter",
    "full_f1",
    "full_auc",
    "full_train_s",
    "lora_f1",
    "lora_auc",
    "lora_train_s",
    "device",
    "artifact_kb",
    "torch_jobs_s",
    "onnx_fp32_jobs_s",
    "onnx_int8_jobs_s",
    "int8_f1",
    "int8_f1_loss",
)


_FUSION_PROTOCOL = (
    "Sources: the shipped tree and run diagnosis (tools/pretrained; fitted on train runs of the "
    "same split by whole runs) and the workflow's SFT adapter (`general` where none; ONNX int8). "
    "A logistic fusion is fitted on sampled validation jobs with and without `sft_score` and "
    "measured on sampled test jobs of unseen runs at its F1-best validation threshold."
)


def _row(wf: str, part: dict[str, Any]) -> dict[str, Any]:
    ad = part["adapter"]
    t = ad["test"][wf]
    full = part.get("full", {}).get("test", {}).get(wf, {}).get("torch", [{}])[0]
    int8 = t.get("onnx_int8", [{}, None])
    return {
        "workflow": wf,
        "adapter": part["name"],
        "full_f1": full.get("f1"),
        "full_auc": full.get("roc_auc"),
        "full_train_s": part.get("full", {}).get("train_s"),
        "lora_f1": t["torch"][0]["f1"],
        "lora_auc": t["torch"][0]["roc_auc"],
        "lora_train_s": ad["train_s"],
        "device": ad["device"],
        "artifact_kb": round(ad["artifact_bytes"] / 1024),
        "torch_jobs_s": t["torch"][1],
        "onnx_fp32_jobs_s": t.get("onnx_fp32", [None, None])[1],
        "onnx_int8_jobs_s": int8[1],
        "int8_f1": int8[0].get("f1"),
        "int8_f1_loss": round(t["torch"][0]["f1"] - int8[0]["f1"], 4) if int8[0] else None,
    }


def _fmt(v: Any) -> str:
    return "" if v is None else f"{v:.3f}" if isinstance(v, float) and abs(v) < 10 else str(v)


def _speed_lines() -> list[str]:
    """The one-run speed comparison of bench/sft/speed.py (bench/results/sft_speed.json)."""
    path = RESULTS / "sft_speed.json"
    if not path.is_file():
        return []
    sp = json.loads(path.read_text())
    lines = [
        "",
        "## CPU scoring speed: PyTorch vs ONNX Runtime fp32 vs int8 (bench/sft/speed.py)",
        "",
        f"Adapter `{sp['adapter']}` (template `{sp['template']}`; {sp.get('adapter_note', '')}), "
        f"{sp['rows']} test rows of unseen "
        f"runs, all variants one after the other in one run; median of repeats after a warm-up. "
        f"Mean MiniLM tokens per job: {sp['tokens_mean']}; the fast tokenizer alone: "
        f"{sp['tokenizer_jobs_s']} jobs/s. `fused` = ONNX Runtime's transformer optimizer (attention, "
        "LayerNorm, GELU fused) before int8 dynamic quantization; tN = intra-op threads, bN = batch.",
        "",
        "| variant | jobs_s | f1 | auc | max_abs_dprob vs torch | load avg (1 min) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['variant']} | {r['jobs_s']} | {_fmt(r.get('f1'))} | {_fmt(r.get('auc'))} | "
        f"{_fmt(r.get('max_abs_dprob'))} | {r['load_avg']} |"
        for r in sp["results"]
    ]
    m = sp["meta"]
    load = [round(x, 1) for x in m["load_avg_end"]]
    lines += ["", f"Command: `{m['command']}`; load average at end {load}"]
    return lines


def write_report() -> None:
    parts = {
        p.stem.removeprefix("sft_adapters_"): json.loads(p.read_text())
        for p in sorted(RESULTS.glob("sft_adapters_*.json"))
    }
    forgetting = parts.pop("forgetting", None)
    fusion = parts.pop("fusion", None)
    rows = [_row(wf, part) for part in parts.values() for wf in part["adapter"]["test"]]
    (RESULTS / "sft_adapters.json").write_text(
        json.dumps(
            {"rows": rows, "forgetting": forgetting, "fusion": fusion, "parts": parts}, indent=1, default=str
        )
    )
    lines = [
        "# SFT: LoRA adapters vs full fine-tuning, and fast CPU scoring (bench/sft/adapters.py)",
        "",
        "Protocol: split by whole runs (60/20/20, seeded), every bundled sample run left out; a seeded "
        "subsample of rows per workflow (sizes per part below); the input template named in each "
        "part (`short`: the job's numbers at two significant digits behind one-token names, "
        "missing values left out, ~45 MiniLM tokens; `compact`: ~73; the enriched sentence ~173); "
        "packaged all-MiniLM-L6-v2 backbone; binary task; early stopping on validation "
        "ROC-AUC (transformers Trainer), temperature calibration and threshold on validation; "
        "metrics on test rows of unseen runs. `general` = one adapter trained on an equal share of "
        "all five workflows, tested on each (seen workflows, unseen runs). jobs/s: scoring the "
        "test rows on this shared 2-core CPU, PyTorch (1 thread) vs ONNX Runtime int8 (fused, "
        "per-channel), one after the other in one run (`--onnx-check`; load average per part "
        "below; see the speed section for a controlled comparison).",
        "",
        "| " + " | ".join(_COLS) + " |",
        "|" + "---|" * len(_COLS),
    ]
    lines += ["| " + " | ".join(_fmt(r[c]) for c in _COLS) + " |" for r in rows]
    lines += ["", "Parts:", ""]
    for name, part in parts.items():
        m = part.get("adapter_meta", part["meta"])
        check = part["adapter"].get("onnx_check")
        lines.append(
            f"- `{name}`: `{m['command']}`; template `{m.get('template')}`, epochs {m.get('epochs')}; "
            f"rows {part['rows']}; wall {m['wall_s']} s; threads {m['threads']}; load average at end "
            f"{[round(x, 1) for x in m['load_avg_end']]}"
            + (f"; full fine-tuning: `{part['full_command']}`" if "full_command" in part else "")
            + (
                f"; torch/ONNX scoring: `{check['command']}` at load "
                f"{[round(x, 1) for x in check['load_avg_end']]}"
                if check
                else ""
            )
        )
    if forgetting:
        lines += ["", "## Forgetting: adapters are swapped per workflow", "", forgetting["protocol"], ""]
        lines += ["| stage | genome_f1 | genome_auc |", "|---|---|---|"]
        lines += [f"| {r['stage']} | {r['f1']:.3f} | {r['roc_auc']:.3f} |" for r in forgetting["rows"]]
        lines += ["", f"Command: `{forgetting['command']}`"]
    if fusion:
        lines += ["", "## Fused F1 with and without the SFT source", "", _FUSION_PROTOCOL, ""]
        cols = ("workflow", "sft_adapter", "sources", "n", "f1", "precision", "recall", "roc_auc")
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(_fmt(r[c]) for c in cols) + " |" for r in fusion["rows"]]
        lines += ["", f"Command: `{fusion['command']}`"]
    lines += _speed_lines()
    (RESULTS / "sft_adapters.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
