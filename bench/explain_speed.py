"""Embedded narrator speed and faithfulness, one option at a time, in one run.

    python -m bench.explain_speed [--cases GLOB] [--n N]

Each eval case is explained once per configuration (configurations interleaved per case, so
they share the box's load): fp32 without reusing the KV cache of the shared prompt prefix
(system prompt + worked example); with reuse; with reuse and no regeneration after a failed
validation (the sentence is dropped instead); the same with int8 linear layers; and fp32 with
each sentence forced to open by citing a finding (``Per F1, ...``; the default). Quotes
medians of wall time and of process CPU time (the box is shared: CPU time is closer to what a
quiet core gives), with the 1-minute load average, must_mention recall and the unsupported
rate before validation. Writes bench/results/explain_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from flowsleuth.agent.evals import load_cases, run_case
from flowsleuth.agent.llm.embedded import EmbeddedBackend, _load
from flowsleuth.agent.llm.settings import LLMSettings
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.pretrained import pretrained_models_dir

OUT = Path(__file__).parent / "results" / "explain_speed"
# name: (int8, reuse the prefix cache, regenerate after a failed validation, cite first)
CONFIGS: dict[str, tuple[bool, bool, bool, bool]] = {
    "fp32": (False, False, True, False),
    "fp32+prefix": (False, True, True, False),
    "fp32+prefix+no-regen": (False, True, False, False),
    "int8+prefix+no-regen": (True, True, False, False),
    "fp32+prefix+no-regen+cite-first": (False, True, False, True),
}


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="*")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--every", type=int, default=1, help="take every k-th matching case")
    ap.add_argument("--dir", type=Path, default=Path("evals"))
    args = ap.parse_args()
    cases = load_cases(args.dir, args.cases)[:: args.every][: args.n]
    llm = EmbeddedBackend(LLMSettings(backend="embedded"))
    shipped = pretrained_models_dir()
    fusion = Fusion.load(shipped / "fusion.json") if shipped else Fusion()
    for int8 in (False, True):  # load both before the clock, warm each once
        llm.chat_model.int8 = int8
        run_case(cases[0], llm, fusion)
    stats: dict[str, dict[str, list[Any]]] = {c: {} for c in CONFIGS}
    loads = []
    for case in cases:
        for name, (int8, reuse, regen, cite) in CONFIGS.items():
            llm.chat_model.int8 = int8
            _load(None, int8)[2].reuse_prefix = reuse
            _load(None, int8)[2].cite_first = cite
            llm.regenerate = regen
            cpu = time.process_time()
            out = run_case(case, llm, fusion)
            s = stats[name]
            s.setdefault("wall", []).append(out.latency_s)
            s.setdefault("cpu", []).append(time.process_time() - cpu)
            for k in (
                "mentioned",
                "must_mention",
                "unsupported_before",
                "sentences_before",
                "unsupported_after",
                "sentences_after",
                "completion_tokens",
                "prompt_tokens",
            ):
                s.setdefault(k, []).append(getattr(out, k))
            loads.append(os.getloadavg()[0])
    rows = {
        name: {
            "p50_wall_s": round(statistics.median(s["wall"]), 2),
            "p50_cpu_s": round(statistics.median(s["cpu"]), 2),
            "must_mention_recall": _rate(sum(s["mentioned"]), sum(s["must_mention"])),
            "unsupported_before": _rate(sum(s["unsupported_before"]), sum(s["sentences_before"])),
            "unsupported_after": _rate(sum(s["unsupported_after"]), sum(s["sentences_after"])),
            "prompt_tokens_mean": round(statistics.mean(s["prompt_tokens"]), 1),
            "completion_tokens_mean": round(statistics.mean(s["completion_tokens"]), 1),
        }
        for name, s in stats.items()
    }
    data = {
        "protocol": "embedded SmolLM2-135M, 1 torch thread, greedy, compact prompt; one explanation "
        "(whole graph run over recorded tool results, claim validation on) per case and "
        "configuration, configurations interleaved per case; both models loaded and warmed "
        "first. cpu: process CPU time of the explanation.",
        "command": "python -m bench.explain_speed " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "cases": [c.name for c in cases],
        "load_avg_1m_median": round(statistics.median(loads), 2),
        "rows": rows,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    cols = list(next(iter(rows.values())))
    md = ["# Embedded narrator speed", "", data["protocol"], "", "| config | " + " | ".join(cols) + " |"]
    md.append("|---" * (len(cols) + 1) + "|")
    md += [f"| {n} | " + " | ".join(str(r[c]) for c in cols) + " |" for n, r in rows.items()]
    md += [
        "",
        f"{len(cases)} cases; median 1-min load average {data['load_avg_1m_median']} on "
        f"{data['machine']} (shared: wall times are the box's, not a quiet core's).",
        "",
        f"Reproduce: `{data['command']}`",
        "",
    ]
    OUT.with_suffix(".md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
