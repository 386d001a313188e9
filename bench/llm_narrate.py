"""Per-call cost of one structured narration (Narrative) for each LLM backend.

Usage:
  .venv/bin/python -m bench.llm_narrate [--repeat 3] [--base-url http://127.0.0.1:8000/v1]
Measures the embedded SmolLM2 (unless --no-embedded), and an OpenAI-compatible server (e.g. CPU
vLLM from scripts/start_vllm.sh) when --base-url is given, at max_tokens and twice that: a weak
model can fill a JSON string until the cap, which then fails as "reply cut at max_tokens".
Writes bench/results/llm_narrate.{json,md}.
"""

from __future__ import annotations

import argparse
import time

from flowsleuth.agent.llm import LLMError, LLMSettings, make_backend
from flowsleuth.agent.llm.settings import DEFAULT_MODEL
from flowsleuth.agent.verdict import Narrative
from langchain_core.messages import HumanMessage, SystemMessage

from bench._common import command, machine, median, write_results

PROMPT = [
    SystemMessage(
        "You explain anomalies of scientific workflow jobs to an operator. "
        "Quote only numbers that appear in the evidence."
    ),
    HumanMessage(
        "Job individuals_ID0000047 on host worker-3. Evidence: runtime is 3.1 times the median "
        "of its transformation in this run; host worker-3 mean runtime ratio 2.8, other hosts "
        "1.0; stage-in bandwidth 0.4 of the run median. Tools say: anomalous, class hdd, "
        "confidence high."
    ),
]


def measure(settings: LLMSettings, repeat: int) -> dict[str, object]:
    backend = make_backend(settings)
    assert backend is not None
    start = time.perf_counter()
    errors = []
    try:
        backend.narrate(PROMPT, Narrative)  # cold: loads weights / warms the server
    except LLMError as err:
        errors.append(err.reason)
    cold = time.perf_counter() - start
    lat, n_in, n_out, fails = [], [], [], 0
    for _ in range(repeat):
        try:
            backend.narrate(PROMPT, Narrative)
        except LLMError as err:
            fails += 1
            errors.append(err.reason)
        lat.append(backend.usage.latency_s)
        n_in.append(backend.usage.prompt_tokens)
        n_out.append(backend.usage.completion_tokens)
    return {
        "backend": backend.name,
        "cold_s": cold,
        "latency_p50_s": median(lat),
        "prompt_tokens": median(n_in),
        "completion_tokens": median(n_out),
        "gen_tok_per_s": median(n_out) / median(lat),
        "failures": f"{fails}/{repeat}",
        "max_tokens": settings.max_tokens,
        "last_error": errors[-1] if errors else "",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--base-url", default=None)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--no-embedded", action="store_true", help="measure only the server")
    args = ap.parse_args()
    rows = []
    if not args.no_embedded:
        rows.append(measure(LLMSettings(max_tokens=args.max_tokens), args.repeat))
    if args.base_url:
        for max_tokens in sorted({args.max_tokens, 2 * args.max_tokens}):
            openai = LLMSettings(
                backend="openai", base_url=args.base_url, model=args.model, max_tokens=max_tokens
            )
            rows.append(measure(openai, args.repeat))
    meta = {
        "command": command(),
        "max_tokens": args.max_tokens,
        **machine(),
    }
    write_results("llm_narrate", rows, meta, "One structured narration per backend")


if __name__ == "__main__":
    main()
