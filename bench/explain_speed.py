"""Embedded narrator speed: one explanation per eval case, with and without reusing the KV cache
of the prompt prefix shared by every job (system prompt + worked example), interleaved.

    python -m bench.explain_speed [--cases GLOB] [--n N]

Writes bench/results/explain_speed.{json,md}. Quotes medians; the box is shared, so the 1-minute
load average is recorded next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

from flowsleuth.agent.evals import load_cases, run_case
from flowsleuth.agent.llm import LLMSettings, make_backend
from flowsleuth.agent.llm.embedded import _load
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.pretrained import pretrained_models_dir

OUT = Path(__file__).parent / "results" / "explain_speed"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="*")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--dir", type=Path, default=Path("evals"))
    args = ap.parse_args()
    cases = load_cases(args.dir, args.cases)[: args.n]
    llm = make_backend(LLMSettings(backend="embedded"))
    shipped = pretrained_models_dir()
    fusion = Fusion.load(shipped / "fusion.json") if shipped else Fusion()
    decoder = _load()[2]
    run_case(cases[0], llm, fusion)  # warm-up: load the model once, outside the timings
    times: dict[str, list[float]] = {"reuse": [], "no_reuse": []}
    unsupported: dict[str, list[int]] = {"reuse": [], "no_reuse": []}
    loads = []
    for case in cases:
        for mode in ("reuse", "no_reuse"):
            decoder.reuse_prefix = mode == "reuse"
            out = run_case(case, llm, fusion)
            times[mode].append(out.latency_s)
            unsupported[mode].append(out.unsupported_before)
            loads.append(os.getloadavg()[0])
    rows = {
        m: {
            "p50_s": round(statistics.median(t), 2),
            "mean_s": round(statistics.mean(t), 2),
            "unsupported_before": sum(unsupported[m]),
        }
        for m, t in times.items()
    }
    ratio = round(rows["reuse"]["p50_s"] / rows["no_reuse"]["p50_s"], 3)
    data = {
        "protocol": "embedded SmolLM2-135M, 1 torch thread, greedy; one explanation (whole graph run "
        "over recorded tool results) per case and mode, modes interleaved per case; warm model.",
        "command": "python -m bench.explain_speed " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "cases": len(cases),
        "load_avg_1m_median": round(statistics.median(loads), 2),
        "rows": rows,
        "reuse_over_no_reuse_p50": ratio,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    md = [
        "# Embedded narrator speed",
        "",
        data["protocol"],
        "",
        "| mode | p50 s | mean s | unsupported sentences (before validation) |",
        "|---|---|---|---|",
    ]
    md += [f"| {m} | {r['p50_s']} | {r['mean_s']} | {r['unsupported_before']} |" for m, r in rows.items()]
    md += [
        "",
        f"{len(cases)} cases; reuse/no-reuse p50 ratio {ratio}; median 1-min load average "
        f"{data['load_avg_1m_median']} on {data['machine']}.",
        "",
        f"Reproduce: `{data['command']}`",
        "",
    ]
    OUT.with_suffix(".md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
