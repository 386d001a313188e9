"""LoRA adapters per workflow vs full fine-tuning, on the split by whole runs, at CPU scale; and
CPU scoring speed of the PyTorch path vs ONNX Runtime fp32 vs int8, measured in one run.

One part per workflow (``--workflow``; ``general`` = one adapter on all five workflows' rows);
each writes bench/results/sft_adapters_<name>.json and re-renders sft_adapters.{json,md}.
The trained adapters are saved under ``--save`` (default /tmp/flowsleuth-adapters) for
``scripts/build_adapters.py`` to ship.

    nice .venv/bin/python -m bench.sft.adapters --workflow 1000-genome --full-ft
    nice .venv/bin/python -m bench.sft.adapters --workflow general
    .venv/bin/python -m bench.sft.adapters --report
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

from bench._common import RESULTS, machine
from bench.sft.adapters_data import ALL_WORKFLOWS, Rows, rows_for
from bench.sft.adapters_report import write_report


def _metrics(scorer: Any, texts: list[str], y: Any) -> tuple[dict[str, float], float]:
    """Test metrics at the validation threshold, and jobs/s of the scorer's current runtime."""
    from flowsleuth.tools.classifier.metrics import binary_metrics

    t0 = time.perf_counter()
    score = scorer.score_texts(texts)
    dt = time.perf_counter() - t0
    m = binary_metrics(y, score, scorer.meta.calibration.threshold)
    return {k: round(float(v), 4) for k, v in m.items()}, round(len(texts) / dt, 1)


def _fit(rows: Rows, args: argparse.Namespace, adapter: bool) -> Any:
    from flowsleuth.tools.classifier.sft import SFTScorer
    from flowsleuth.tools.classifier.sft_adapter import LoraSpec
    from flowsleuth.tools.classifier.sft_train import TrainConfig

    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=16,
        lr=args.lora_lr if adapter else args.full_lr,
        max_length=128,
        progress=False,
        device="cpu",
        threads=args.threads,
    )
    return SFTScorer.fit_texts(
        rows.train_texts,
        rows.train_raw,
        rows.val_texts,
        rows.val_raw,
        task="binary",
        template=args.template,
        backbone=None,
        init=None,
        calibration="temperature",
        config=cfg,
        name=f"sft-lora-{rows.name}" if adapter else f"sft-full-{rows.name}",
        adapter=LoraSpec(r=args.lora_r, alpha=args.lora_alpha) if adapter else None,
    )


def _evaluate(scorer: Any, rows: Rows, onnx: list[str], cache: Path, threads: int = 1) -> dict[str, Any]:
    from flowsleuth.tools.classifier.sft_onnx import attach

    out: dict[str, Any] = {}
    for wf, (texts, y) in rows.tests.items():
        out[wf] = {"torch": _metrics(scorer, texts, y)}
    if onnx:
        for precision in onnx:
            attach(scorer, cache, precision, threads)  # type: ignore[arg-type]
            for wf, (texts, y) in rows.tests.items():
                out[wf][f"onnx_{precision}"] = _metrics(scorer, texts, y)
        scorer.runtime = None
    return out


def run_part(args: argparse.Namespace) -> dict[str, Any]:
    rows = rows_for(args.workflow, args.template, args.train, args.val, args.test, args.cache)
    if args.tag:  # a variant of a part (e.g. another template), kept next to it
        rows.name = f"{rows.name}@{args.tag}"
    res: dict[str, Any] = {"name": rows.name, "rows": rows.sizes(), "runs": rows.runs}
    kinds = ("full",) if args.only_full else ("adapter", "full") if args.full_ft else ("adapter",)
    for kind in kinds:
        scorer = _fit(rows, args, adapter=kind == "adapter")
        entry = {
            "train_s": scorer.meta.train_seconds,
            "device": "cpu",
            "train_log": scorer.meta.params.get("train_log"),
            "val": scorer.meta.metrics,
            "test": _evaluate(scorer, rows, args.onnx if kind == "adapter" else [], args.cache / "onnx"),
        }
        if kind == "adapter":
            d = scorer.save(args.save / rows.name)
            entry["artifact_bytes"] = sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
        res[kind] = entry
    return res


def run_forgetting(args: argparse.Namespace) -> dict[str, Any]:
    """1000 Genome test F1 from a set holding only its adapter, then from a set to which the
    Montage adapter was added (scored with Montage's adapter first, so it is the active one)."""
    from flowsleuth.tools.classifier import load_scorer
    from flowsleuth.tools.classifier.metrics import binary_metrics
    from flowsleuth.tools.classifier.sft_set import AdapterSet

    g_rows = rows_for("1000-genome", args.template, 0, 0, args.test, args.cache)
    m_rows = rows_for("montage", args.template, 0, 0, args.test, args.cache)
    texts, y = g_rows.tests["1000-genome"]
    genome = load_scorer(args.save / "1000-genome")
    montage = load_scorer(args.save / "montage")
    out = []
    for stage, members in (
        ("after 1000 Genome (its adapter alone)", {"1000-genome": genome}),
        ("then Montage adapter added", {"1000-genome": genome, "montage": montage}),
    ):
        d = AdapterSet.of(members, fallback=None).save(args.cache / "forgetting" / str(len(members)))
        scorers: Any = load_scorer(d)
        if "montage" in members:
            scorers.for_workflow("montage").score_texts(m_rows.tests["montage"][0][:64])
        s = scorers.for_workflow("1000-genome")
        m = binary_metrics(y, s.score_texts(texts), s.meta.calibration.threshold)
        out.append({"stage": stage, **{k: round(float(v), 4) for k, v in m.items()}})
    return {
        "name": "forgetting",
        "protocol": (
            f"1000 Genome test rows of unseen runs (n={len(texts)}), scored through a saved and "
            "reloaded adapter set: once holding only the 1000 Genome adapter, once with the Montage "
            "adapter added (and made active by scoring Montage rows first). Full fine-tuning for "
            "comparison (bench/results/sft.md, H100, paper split): 1000 Genome F1 .688 -> .485 "
            "after continuing on Montage."
        ),
        "rows": out,
    }


def run_onnx_check(args: argparse.Namespace) -> None:
    """Score each saved adapter's test rows with PyTorch and ONNX Runtime (``--onnx``) in one run,
    and add the results to its part (training left ONNX out when it ran with ``--onnx``)."""
    from flowsleuth.tools.classifier import load_scorer

    for path in sorted(RESULTS.glob("sft_adapters_*.json")):
        part = json.loads(path.read_text())
        name = part.get("name", "")
        if "adapter" not in part or "@" in name or not (args.save / name / "meta.json").is_file():
            continue
        scorer: Any = load_scorer(args.save / name)
        rows = rows_for(name, scorer.template_name, 0, 0, args.test, args.cache)
        sizes = {k: v for k, v in part["rows"].items() if k.startswith("test:")}
        if {k: v for k, v in rows.sizes().items() if k.startswith("test:")} != sizes:
            raise SystemExit(f"{name}: --test {args.test} does not give the part's test rows {sizes}")
        part["adapter"]["test"] = _evaluate(scorer, rows, args.onnx, args.cache / "onnx", args.threads)
        part["adapter"]["onnx_check"] = {
            "command": "python -m bench.sft.adapters " + " ".join(sys.argv[1:]),
            "load_avg_end": os.getloadavg(),
            "threads": args.threads,
        }
        path.write_text(json.dumps(part, indent=1, default=str))
        print(name, json.dumps(part["adapter"]["test"]), flush=True)
    write_report()


def _keep_full_ft(out: dict[str, Any], refit: bool) -> None:
    """A rerun of the adapter alone keeps the earlier full fine-tuning of the very same rows."""
    path = RESULTS / f"sft_adapters_{out['name']}.json"
    if refit or not path.is_file():
        return
    before = json.loads(path.read_text())
    if "full" in before and before["rows"] == out["rows"] and before["runs"] == out["runs"]:
        out["full"] = before["full"]
        out["full_command"] = before["meta"]["command"]


def _keep_adapter(out: dict[str, Any]) -> None:
    """``--only-full`` adds full fine-tuning to the part that trained the adapter on the same rows."""
    path = RESULTS / f"sft_adapters_{out['name']}.json"
    before = json.loads(path.read_text()) if path.is_file() else {}
    if before.get("rows") != out["rows"] or before.get("runs") != out["runs"] or "adapter" not in before:
        raise SystemExit(f"{path}: no adapter part on the same rows to add full fine-tuning to")
    out["adapter"] = before["adapter"]
    out["full_command"] = "python -m bench.sft.adapters " + " ".join(sys.argv[1:])
    out["adapter_meta"] = before["meta"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workflow", choices=(*ALL_WORKFLOWS, "general"))
    ap.add_argument("--report", action="store_true", help="only merge the parts into the table")
    ap.add_argument("--forgetting", action="store_true", help="1000 Genome before/after Montage")
    ap.add_argument("--fusion", action="store_true", help="fused F1 with and without the SFT source")
    ap.add_argument("--onnx-check", action="store_true", help="score saved adapters: torch vs --onnx")
    ap.add_argument("--template", default="short", help="SFT input template")
    ap.add_argument("--tag", help="name a variant part <workflow>@<tag> (not shipped)")
    ap.add_argument("--train", type=int, default=1200, help="training rows (seeded subsample)")
    ap.add_argument("--val", type=int, default=300, help="validation rows (early stopping, calibration)")
    ap.add_argument("--test", type=int, default=600, help="test rows per workflow (unseen runs)")
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--lora-lr", type=float, default=5e-4)
    ap.add_argument("--lora-r", type=int, default=8)
    ap.add_argument("--lora-alpha", type=int, default=16)
    ap.add_argument("--full-lr", type=float, default=5e-5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for training and scoring")
    ap.add_argument("--full-ft", action="store_true", help="also fully fine-tune, same rows")
    ap.add_argument(
        "--only-full", action="store_true", help="only fully fine-tune; keep the part's adapter (same rows)"
    )
    ap.add_argument(
        "--onnx", nargs="*", default=["int8"], help="ONNX Runtime precisions to score the adapter with too"
    )
    ap.add_argument("--cache", type=Path, default=Path("/tmp/flowsleuth-bench-cache"))
    ap.add_argument("--save", type=Path, default=Path("/tmp/flowsleuth-adapters"))
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script runs")
    args = ap.parse_args()
    if args.report:
        write_report()
        return
    if args.forgetting:
        res = run_forgetting(args)
        res["command"] = "python -m bench.sft.adapters " + " ".join(sys.argv[1:])
        (RESULTS / "sft_adapters_forgetting.json").write_text(json.dumps(res, indent=1))
        write_report()
        return
    if args.onnx_check:
        run_onnx_check(args)
        return
    if args.fusion:
        from bench.sft.adapters_fusion import run_fusion

        wfs = [wf for wf in ALL_WORKFLOWS if (args.save / wf).is_dir() or (args.save / "general").is_dir()]
        res = run_fusion(wfs, args.save, args.cache, args.val, args.test)
        res["command"] = "python -m bench.sft.adapters " + " ".join(sys.argv[1:])
        (RESULTS / "sft_adapters_fusion.json").write_text(json.dumps(res, indent=1))
        write_report()
        return
    if args.workflow is None:
        ap.error("--workflow, --forgetting or --report is needed")
    if args.smoke:
        args.train, args.val, args.test, args.epochs = 24, 8, 16, 1.0
    start = time.perf_counter()
    out = run_part(args)
    if args.only_full:
        _keep_adapter(out)
    else:
        _keep_full_ft(out, args.full_ft)
    out["meta"] = {
        **machine(),
        "command": "python -m bench.sft.adapters " + " ".join(sys.argv[1:]),
        "wall_s": round(time.perf_counter() - start, 1),
        "threads": args.threads,
        "load_avg_end": os.getloadavg(),
        "template": args.template,
        "epochs": args.epochs,
    }
    if not args.smoke:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"sft_adapters_{out['name']}.json").write_text(json.dumps(out, indent=1, default=str))
        write_report()
    else:
        print(json.dumps({k: out[k] for k in ("name", "rows")}))


if __name__ == "__main__":
    main()
