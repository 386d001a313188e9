"""CPU scoring speed of one SFT adapter, every variant in one run on the same rows: PyTorch vs
ONNX Runtime fp32 vs int8 (session 4's recipe: plain export, one scale per tensor; and this
one: ONNX Runtime's transformer optimizer fusing attention / LayerNorm / GELU, then per-channel
int8), threads and batch size; the same jobs as ``compact`` and as ``short`` texts (token count);
the tokenizer alone. F1 / AUC of each at the adapter's validation threshold on test rows of
unseen runs, and the largest probability change against PyTorch.

    nice -n 10 .venv/bin/python -m bench.sft.speed --adapter tools/pretrained/adapters/1000-genome
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

from bench._common import RESULTS, machine
from bench.sft.adapters_data import rows_for


def _time(fn: Any, repeats: int) -> tuple[Any, float]:
    """The output of ``fn()`` and its median wall time over ``repeats`` calls (after one warm-up)."""
    out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--adapter", type=Path, default=Path("tools/pretrained/adapters/1000-genome"))
    ap.add_argument("--workflow", default="1000-genome")
    ap.add_argument("--test", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2, help="the Settings' threads on this box")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="*", default=[16, 64, 256])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/flowsleuth-bench-cache"))
    ap.add_argument("--name", default="sft_speed")
    args = ap.parse_args()

    from flowsleuth.tools.classifier import load_scorer
    from flowsleuth.tools.classifier.metrics import binary_metrics
    from flowsleuth.tools.classifier.sft_onnx import OnnxEncoder, export
    from flowsleuth.tools.classifier.sft_train import predict_logits

    scorer: Any = load_scorer(args.adapter)
    own = scorer.template_name
    other = "compact" if own == "short" else "short"
    rows = {
        t: rows_for(args.workflow, t, 0, 0, args.test, args.cache).tests[args.workflow] for t in (own, other)
    }
    texts, y = rows[own]
    cal, thr, tok, t = (
        scorer.meta.calibration,
        scorer.meta.calibration.threshold,
        scorer.tokenizer,
        args.threads,
    )
    tokens = {k: float(np.mean([len(x) for x in tok(v[0])["input_ids"]])) for k, v in rows.items()}
    _, tok_s = _time(lambda: tok(texts, truncation=True, max_length=scorer.max_length), args.repeats)
    results: list[dict[str, Any]] = []
    ref: list[np.ndarray] = []

    def record(variant: str, logits: np.ndarray, dt: float, n: int, metrics: bool = True) -> None:
        row: dict[str, Any] = {"variant": variant, "jobs_s": round(n / dt, 1)}
        if metrics:
            probs = cal.score(cal.probs(logits))
            m = binary_metrics(y, probs, thr)
            ref.append(ref[0] if ref else probs)
            row |= {
                "f1": round(float(m["f1"]), 4),
                "auc": round(float(m["roc_auc"]), 4),
                "max_abs_dprob": round(float(np.abs(probs - ref[0]).max()), 4),
            }
        row["load_avg"] = round(os.getloadavg()[0], 2)
        results.append(row)
        print(json.dumps(row), flush=True)

    def onnx(
        variant: str, path: Path, threads: int, batch: int, on: list[str] | None = None, spin: bool = True
    ) -> None:
        enc = OnnxEncoder(path, tok, scorer.max_length, batch_size=batch, threads=threads, spin=spin)
        logits, dt = _time(lambda: enc.logits(on or texts), args.repeats)
        record(f"{variant} t{threads} b{batch}", logits, dt, len(on or texts), metrics=on is None)

    logits, dt = _time(
        lambda: predict_logits(scorer.model, tok, texts, scorer.max_length, threads=t), args.repeats
    )
    record(f"torch t{t} b64", logits, dt, len(texts))
    cache = args.cache / "onnx-speed"
    fp32 = export(scorer, cache, "fp32", optimize=False)
    onnx("onnx fp32", fp32, t, 64)
    fp32_opt = export(scorer, cache, "fp32", optimize=True)
    onnx("onnx fp32 fused", fp32_opt, t, 64)
    onnx("onnx int8 (session 4)", export(scorer, cache, "int8", optimize=False, per_channel=False), t, 64)
    best = export(scorer, cache, "int8", optimize=True, per_channel=True)
    for threads in sorted({1, t}):
        for batch in args.batches:
            onnx("onnx int8 fused per-channel", best, threads, batch)
    if t > 1:
        onnx("onnx int8 fused per-channel, no spinning", best, t, 64, spin=False)
    onnx(f"onnx int8 fused per-channel, {other} texts (speed only)", best, t, 64, on=rows[other][0])
    out = {
        "name": args.name,
        "adapter": str(args.adapter),
        "template": own,
        "rows": len(texts),
        "tokens_mean": {k: round(v, 1) for k, v in tokens.items()},
        "tokenizer_jobs_s": round(len(texts) / tok_s, 1),
        "results": results,
        "meta": {
            **machine(),
            "command": "python -m bench.sft.speed " + " ".join(sys.argv[1:]),
            "threads": t,
            "load_avg_end": os.getloadavg(),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(out, indent=1))
    print(json.dumps({k: out[k] for k in ("rows", "tokens_mean", "tokenizer_jobs_s")}))


if __name__ == "__main__":
    main()
