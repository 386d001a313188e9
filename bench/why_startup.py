"""Start-up of ``flowsleuth why RUN JOB``: where one investigation's seconds go, before and after.

Protocol: one Flow-Bench run (eht-imaging-run0001, 12 jobs, from the extra eht_imaging zip) and
one job of it; each measurement is a fresh process (``bench.why_phases``: the CLI's ``why``
with its phases timed) with ``OMP_NUM_THREADS=1`` and no config or plugins. Homes: *fresh*
(an empty home: shipped models, no cache) and *warm* (a home one earlier ``why`` of the same
tree has used: its cache holds the converted LLM weights and, on the new code, the SFT export).
Backends: ``none`` (no LLM) and ``embedded`` (SmolLM2 through transformers). With ``--before
REF`` each measurement runs on REF's code too, the trees alternating, all in this one run;
medians of ``--rounds`` processes, the load average before each. A fresh embedded home first
converts the packaged GGUF (~20 s on either tree), so it is skipped unless ``--fresh-llm``.
The heavy imports are measured apart, by ``python -X importtime`` (cumulative seconds of each
top-level package, one extra process per tree and backend; importtime slows imports a little),
and each tree's verdicts (``--json``) are compared field by field.

Usage: nice .venv/bin/python -m bench.why_startup [--before REF] [--rounds 3] [--fresh-llm] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench._common import machine, results_dir, write_results
from bench.scale import shadow_tree

ZIP = Path("/work/shared/flowbench/extra/eht_imaging.zip")
RUN, JOB = "eht-imaging-run0001.csv", "eht-imaging_pipeline_ID0000001"
PACKAGES = ("torch", "transformers", "peft", "onnxruntime", "tokenizers", "langchain_core", "langgraph")
PACKAGES += ("chromadb", "lightgbm", "sklearn", "pandas", "flowsleuth.cli.main")
AFTER = "after verdict (cache SFT export)"  # a phase of bench.why_phases


def load() -> float:
    return round(os.getloadavg()[0], 2)


def env_for(home: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        **extra,
        "FLOWSLEUTH_HOME": str(home),
        "FLOWSLEUTH_CONFIG": str(home.parent / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "OMP_NUM_THREADS": "1",
    }


def measure(run: Path, backend: str, home: Path, env: dict[str, str], work: Path) -> dict[str, Any]:
    """One fresh ``why`` process: its phases (from the child), wall as seen from here, the verdict."""
    out = work / f"phases-{time.monotonic_ns()}.json"
    cmd = [sys.executable, "-m", "bench.why_phases", str(run), JOB, "--backend", backend, "--json", str(out)]
    before = load()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env_for(home, env), capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"why failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return {**json.loads(out.read_text()), "process wall s": wall, "load": before, "verdict": proc.stdout}


def importtimes(run: Path, backend: str, home: Path, env: dict[str, str]) -> dict[str, float]:
    """Cumulative import seconds of each package in PACKAGES, from ``-X importtime``."""
    argv = ["why", str(run), JOB, "--backend", backend, "--json"]
    code = f"from flowsleuth.cli.main import app; app({argv!r})"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env_for(home, env),
        capture_output=True,
        text=True,
        timeout=900,
    )
    cum: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", line)
        if m and m.group(3) in PACKAGES and m.group(3) not in cum:
            cum[m.group(3)] = round(int(m.group(1)) / 1e6, 3)
    return cum


def sft_value(verdict: str) -> float | None:
    ev = [e for e in json.loads(verdict)["evidence"] if e["tool"] == "sft_score" and e["name"] == "score"]
    return ev[0]["value"] if ev else None


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of one case's processes."""
    med = lambda xs: round(statistics.median(xs), 2)  # noqa: E731
    phases = list(dict.fromkeys(p for s in samples for p in s["phases"]))
    col: dict[str, Any] = {
        "processes": len(samples),
        "wall s (process)": med([s["process wall s"] for s in samples]),
        "CPU s": med([s["CPU s"] for s in samples]),
        "verdict out at s": med([s["process wall s"] - s["phases"].get(AFTER, 0.0) for s in samples]),
    }
    for p in phases:
        col[p] = med([s["phases"].get(p, 0.0) for s in samples])
    col["torch imported"] = "yes" if any("torch" in s["imported"] for s in samples) else "no"
    col["sft_score"] = ", ".join(sorted({str(sft_value(s["verdict"])) for s in samples}))
    col["load (1 min) per process"] = " ".join(str(s["load"]) for s in samples)
    return col


def transpose(cols: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per measure, one column per case (the cases are few, the measures many)."""
    measures = list(dict.fromkeys(m for c in cols.values() for m in c))
    return [{"measure": m, **{case: c.get(m, "") for case, c in cols.items()}} for m in measures]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="git ref to measure too, in the same run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--backends", default="none,embedded")
    ap.add_argument("--fresh-llm", action="store_true", help="also the embedded backend on a fresh home")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        args.rounds, args.backends = 1, "none"
    work = Path(tempfile.mkdtemp(prefix="flowsleuth-why-"))
    with zipfile.ZipFile(ZIP) as z:
        run = Path(z.extract(RUN, work))
    trees: dict[str, dict[str, str]] = {"after": {}}
    shadow = None
    if args.before:
        path, shadow = shadow_tree(args.before, work)
        trees = {"before": {"PYTHONPATH": str(path)}, **trees}
    samples: dict[str, list[dict[str, Any]]] = {}
    imports: dict[str, dict[str, float]] = {}
    load_start = load()
    try:
        for backend in args.backends.split(","):
            homes = ["fresh", "warm"] if backend == "none" or args.fresh_llm else ["warm"]
            for tree, extra in trees.items():  # a warm home: one why of this tree has run in it
                warm = work / f"home-{tree}-{backend}"
                measure(run, backend, warm, extra, work)
                imports[f"{tree}, {backend}, warm"] = importtimes(run, backend, warm, extra)
            for rnd in range(args.rounds):
                for home_kind in homes:
                    for tree, extra in trees.items():
                        home = work / f"home-{tree}-{backend}"
                        if home_kind == "fresh":
                            home = work / f"fresh-{tree}-{backend}-{rnd}"
                        label = f"{tree}: {backend}, {home_kind}"
                        print(f"round {rnd + 1}: {label} (load {load()})", flush=True)
                        samples.setdefault(label, []).append(measure(run, backend, home, extra, work))
    finally:
        if shadow is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(shadow)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    rows = transpose({label: summarise(s) for label, s in samples.items()})
    same = {
        label.replace("after, ", ""): samples[label][0]["verdict"]
        == samples[label.replace("after", "before")][0]["verdict"]
        for label in samples
        if label.startswith("after") and label.replace("after", "before") in samples
    }
    meta = {
        "protocol": " ".join(__doc__.split("Protocol:")[1].split("Usage:")[0].split()),
        "run, job": f"{RUN}, {JOB}",
        "load average (1 min) at start / end": [load_start, load()],
        "verdict JSON identical before / after (first process of each case)": same,
        "cumulative import s (-X importtime, warm home)": imports,
        **machine(),
    }
    write_results(
        "why_startup", rows, meta, "flowsleuth why: start-up, before / after", results_dir(args.smoke)
    )


if __name__ == "__main__":
    main()
