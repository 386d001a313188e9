"""Export rendered SFT inputs and both splits' job keys to a compact file per workflow, so that
bench.sft can run on a machine without Flow-Bench (``--from-export``), e.g. a lent GPU.

    .venv/bin/python -m bench.sft.export --out .gpu/data --fp16-backbone .gpu/minilm
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from flowsleuth.tools.classifier.text import render_inputs

from bench.sft.data import WORKFLOWS, Keys, Split, load_workflow, splits_of, subsample_keys

PARTS = ("train", "validation", "test")


def caps(max_train: int | None, max_val: int, max_test: int | None) -> dict[str, tuple[int | None, int]]:
    """Rows kept per part and the seed used (the seeds bench/sft/models.py subsamples with)."""
    return {"train": (max_train, 42), "validation": (max_val, 42), "test": (max_test, 0)}


def export(wf: str, splits: dict[str, Split], runs: list, out: Path, part_caps: dict) -> dict[str, int]:
    keep: dict[str, dict[str, Keys]] = {
        s: {p: subsample_keys(sp.keys[p], *part_caps[p]) for p in PARTS} for s, sp in splits.items()
    }
    wanted = set().union(*(k for by in keep.values() for k in by.values()))
    jobs: dict[str, list] = {"run_id": [], "node": [], "raw": [], "paper": [], "suffix": []}
    for run in runs:
        nodes = [j for j in run.job_ids if (run.run_id, j) in wanted]
        if not nodes:
            continue
        paper, enriched = render_inputs(run, "paper"), render_inputs(run, "enriched")
        for j in nodes:
            jobs["run_id"].append(run.run_id)
            jobs["node"].append(j)
            jobs["raw"].append(str(run.labels.loc[j]))
            jobs["paper"].append(paper.loc[j])
            jobs["suffix"].append(enriched.loc[j][len(paper.loc[j]) :])
    pos = {k: i for i, k in enumerate(zip(jobs["run_id"], jobs["node"], strict=True))}
    doc = {
        "workflow": wf,
        "caps": {p: c[0] for p, c in part_caps.items()},
        "jobs": jobs,
        "keys": {s: {p: sorted(pos[k] for k in by[p]) for p in PARTS} for s, by in keep.items()},
    }
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(out / f"{wf}.json.gz", "wt", compresslevel=9) as f:
        json.dump(doc, f)
    return {f"{s}_{p}": len(by[p]) for s, by in keep.items() for p in PARTS}


def fp16_backbone(out: Path) -> None:
    """The packaged MiniLM with its weights stored in fp16 (half the bytes, to fit a 64 MiB
    transfer); SFT loads them back into fp32."""
    import shutil

    from flowsleuth.tools.classifier.sft import default_backbone
    from flowsleuth.tools.classifier.sft_adapter import backbone_path
    from safetensors.torch import load_file, save_file

    src = Path(backbone_path(default_backbone()))
    out.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and f.suffix != ".safetensors":
            shutil.copy(f, out / f.name)
    weights = load_file(src / "model.safetensors")
    half = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
    save_file(half, out / "model.safetensors", metadata={"format": "pt"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--workflows", nargs="*", default=list(WORKFLOWS))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/flowsleuth-bench-cache"))
    ap.add_argument("--max-train", type=int, default=None)
    ap.add_argument("--max-val", type=int, default=2000)
    ap.add_argument("--max-test", type=int, default=None)
    ap.add_argument("--fp16-backbone", type=Path, default=None, help="also write an fp16 MiniLM here")
    args = ap.parse_args()
    if args.fp16_backbone is not None:
        fp16_backbone(args.fp16_backbone)
    for wf in args.workflows:
        runs = load_workflow(wf, args.cache)
        counts = export(
            wf, splits_of(wf, runs), runs, args.out, caps(args.max_train, args.max_val, args.max_test)
        )
        print(wf, counts, f"{(args.out / f'{wf}.json.gz').stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
