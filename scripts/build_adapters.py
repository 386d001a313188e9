"""Release build of the shipped SFT adapters: assemble the adapters that bench/sft/adapters.py
trained into ``tools/pretrained/adapters/`` (an adapter set: one per workflow plus ``general``)
with ``provenance.json`` (command, training runs, test metrics, bundled runs left out).

    nice .venv/bin/python -m bench.sft.adapters --workflow 1000-genome   # ... each workflow, general
    .venv/bin/python scripts/build_adapters.py
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tools" / "pretrained" / "adapters"
RESULTS = ROOT / "bench" / "results"
LIMIT = 10 * 1024 * 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--from", dest="src", type=Path, default=Path("/tmp/flowsleuth-adapters"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    from flowsleuth.tools.classifier import load_scorer
    from flowsleuth.tools.classifier.sft_set import GENERAL, SetIndex
    from flowsleuth.workflows.sample import sample_runs

    names = sorted(p.name for p in args.src.iterdir() if (p / "meta.json").is_file())
    if not names:
        raise SystemExit(f"{args.src}: no trained adapters")
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    provenance: dict[str, dict] = {}
    for name in names:
        shutil.copytree(args.src / name, args.out / name)
        load_scorer(args.out / name)  # every shipped adapter loads offline
        part = json.loads((RESULTS / f"sft_adapters_{name}.json").read_text())
        provenance[name] = {
            "command": part.get("adapter_meta", part["meta"])["command"],
            "rows": part["rows"],
            "training_runs": part["runs"],
            "test": {wf: t["torch"][0] for wf, t in part["adapter"]["test"].items()},
            "train_s": part["adapter"]["train_s"],
            "device": part["adapter"]["device"],
        }
    index = SetIndex(
        workflows={n: n for n in names if n != GENERAL}, fallback=GENERAL if GENERAL in names else None
    )
    (args.out / "adapters.json").write_text(index.model_dump_json(indent=1))
    bundled = sorted(p.stem for p in sample_runs())
    leaked = [
        (n, r)
        for n, p in provenance.items()
        for runs in p["training_runs"].values()
        for r in runs
        if r in bundled
    ]
    if leaked:
        raise SystemExit(f"bundled sample runs in the training data: {leaked[:5]}")
    doc = {
        "protocol": "split by whole runs 60/20/20 (seeded); adapters fitted on a subsample of train runs, "
        "early-stopped and calibrated on validation runs; test metrics on unseen runs",
        "excluded_bundled_runs": bundled,
        "adapters": provenance,
        "build": "python scripts/build_adapters.py",
    }
    (args.out / "provenance.json").write_text(json.dumps(doc, indent=1))
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    if size > LIMIT:
        raise SystemExit(f"shipped adapters are {size} bytes, over the {LIMIT} limit")
    print(f"{len(names)} adapters, {size / 1e6:.2f} MB -> {args.out}")


if __name__ == "__main__":
    main()
