"""Constrained decoding for the embedded narrator: the hand-written decoder against kept libraries.

    python -m bench.constrained [--cases GLOB] [--n N] [--every K]

Every selected eval case is explained once per decoder, decoders interleaved per case (so they
share the box's load), through the same investigation graph, the same compact prompt and the
same schema (``BriefNarrative``) with SmolLM2-135M-Instruct on one thread:

* ``handwritten``: today's decoder (agent/llm/constrained.py, processors.py, vocab.py): it
  writes the JSON scaffolding itself, the model fills the string value; KV cache of the shared
  prompt prefix reused; each sentence opens by citing a finding and copies only its numbers.
* ``xgrammar``: transformers ``generate`` with xgrammar's logits processor over the JSON schema
  (the model writes the whole JSON under the grammar), greedy, repetition_penalty 1.1.
* ``lm-format-enforcer``: the same with lm-format-enforcer's ``JsonSchemaParser``. Its
  transformers integration does not import under transformers 5 (it imports
  ``transformers.tokenization_utils``), so its token table is built here the way that
  integration builds it, and its ``TokenEnforcer`` masks the logits.

The libraries are not dependencies of flowsleuth (the measurement kept the hand-written
decoder); install them without their dependencies (xgrammar would pull another torch and
triton): ``pip install --no-deps xgrammar apache-tvm-ffi lm-format-enforcer interegular``. A
library that does not import is left out, with a note.

Per decoder: JSON validity (the reply parses into the schema; an invalid reply leaves the
tool-only explanation), narration latency p50 (the decoder call alone, prompt included) and its
process CPU time p50 (closer to a quiet core's time on a shared box), output tokens and
tokens/s, must_mention recall and the unsupported-claim rate of the first draft (as
``flowsleuth evals run`` counts them). Writes bench/results/constrained.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flowsleuth.agent.evals import load_cases, run_case
from flowsleuth.agent.llm.base import LLMBackend, M, Usage
from flowsleuth.agent.llm.embedded import EmbeddedBackend, EmbeddedChatModel, _load, torch_threads
from flowsleuth.agent.llm.settings import LLMSettings
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.pretrained import pretrained_models_dir
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

OUT = Path(__file__).parent / "results" / "constrained"
MAX_NEW = LLMSettings.model_fields["max_tokens"].default


class Timed(LLMBackend):
    """Records each narration: (latency s, output tokens, valid JSON, process CPU s)."""

    compact = True
    regenerate = False
    supports_tools = False

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[float, int, bool, float]] = []

    @property
    def chat_model(self) -> BaseChatModel:
        raise NotImplementedError


class Handwritten(Timed):
    name = "handwritten"

    def __init__(self, inner: EmbeddedBackend) -> None:
        super().__init__()
        self.inner = inner

    def narrate(self, prompt_messages: Sequence[BaseMessage], schema: type[M]) -> M:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            out = self.inner.narrate(prompt_messages, schema)
        except Exception:
            n = self.inner.usage.completion_tokens
            self.calls.append((time.perf_counter() - start, n, False, time.process_time() - cpu))
            raise
        self.usage = self.inner.usage
        n = self.usage.completion_tokens
        self.calls.append((time.perf_counter() - start, n, True, time.process_time() - cpu))
        return out


class Library(Timed):
    """``generate`` with one library's logits processor, made fresh for each call."""

    def __init__(self, name: str, chat: EmbeddedChatModel, processor: Callable[[type[Any]], Any]) -> None:
        super().__init__()
        self.name = name
        self.chat = chat
        self.processor = processor

    def narrate(self, prompt_messages: Sequence[BaseMessage], schema: type[M]) -> M:
        import torch
        from transformers import LogitsProcessorList

        model, tokenizer, _ = _load()
        start, cpu = time.perf_counter(), time.process_time()
        ids = tokenizer(self.chat._prompt(prompt_messages), return_tensors="pt", add_special_tokens=False)
        with torch.no_grad(), torch_threads(1):
            gen = model.generate(
                **ids,
                max_new_tokens=MAX_NEW,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                repetition_penalty=1.1,
                logits_processor=LogitsProcessorList([self.processor(schema)]),
                pad_token_id=tokenizer.pad_token_id,
            )
        new = gen[0, ids["input_ids"].shape[1] :].tolist()
        text = tokenizer.decode(new, skip_special_tokens=True)
        latency, cpu = time.perf_counter() - start, time.process_time() - cpu
        self.usage = Usage(
            prompt_tokens=ids["input_ids"].shape[1], completion_tokens=len(new), latency_s=latency
        )
        try:
            out = schema.model_validate_json(text)
        except ValueError:
            self.calls.append((latency, len(new), False, cpu))
            raise
        self.calls.append((latency, len(new), True, cpu))
        return out


def xgrammar_processor(tokenizer: Any, vocab_size: int) -> Callable[[type[Any]], Any]:
    import xgrammar as xgr
    import xgrammar.contrib.hf as xhf

    compiler = xgr.GrammarCompiler(xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size))
    compiled: dict[type[Any], Any] = {}

    def make(schema: type[Any]) -> Any:
        if schema not in compiled:
            compiled[schema] = compiler.compile_json_schema(json.dumps(schema.model_json_schema()))
        return xhf.LogitsProcessor(compiled[schema])

    return make


class _Enforce:
    """lm-format-enforcer's TokenEnforcer as a transformers logits processor (batch of one)."""

    def __init__(self, enforcer: Any, start: int | None = None) -> None:
        self.enforcer = enforcer

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        allowed = self.enforcer.get_allowed_tokens(input_ids[0].tolist()).allowed_tokens
        mask = torch.full_like(scores, float("-inf"))
        mask[:, allowed] = 0
        return scores + mask


def enforcer_processor(tokenizer: Any, vocab_size: int) -> Callable[[type[Any]], Any]:
    from lmformatenforcer import JsonSchemaParser, TokenEnforcer, TokenEnforcerTokenizerData

    # as lmformatenforcer.integrations.transformers builds it (that module needs transformers 4)
    zero = tokenizer.encode("0", add_special_tokens=False)[-1]
    special = set(tokenizer.all_special_ids)
    regular = []
    for i in range(len(tokenizer)):
        if i in special:
            continue
        after_zero = tokenizer.decode([zero, i])[1:]
        regular.append((i, after_zero, len(after_zero) > len(tokenizer.decode([i]))))

    def decode(tokens: list[int]) -> str:
        return str(tokenizer.decode(tokens)).rstrip("\ufffd")

    data = TokenEnforcerTokenizerData(regular, decode, tokenizer.eos_token_id, False, vocab_size)

    def make(schema: type[Any]) -> Any:
        return _Enforce(TokenEnforcer(data, JsonSchemaParser(schema.model_json_schema())))

    return make


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="*")
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--every", type=int, default=5, help="take every k-th matching case")
    ap.add_argument("--dir", type=Path, default=Path("evals"))
    ap.add_argument("--only", nargs="*", default=None, help="decoders to run (default: all)")
    args = ap.parse_args()
    cases = load_cases(args.dir, args.cases)[:: args.every][: args.n]
    embedded = EmbeddedBackend(LLMSettings(backend="embedded"))
    model, tokenizer, _ = _load()
    setup: dict[str, float] = {}
    decoders: list[Timed] = [Handwritten(embedded)]
    notes: list[str] = []
    for name, build in (("xgrammar", xgrammar_processor), ("lm-format-enforcer", enforcer_processor)):
        t0 = time.perf_counter()
        try:
            decoders.append(Library(name, embedded.chat_model, build(tokenizer, model.config.vocab_size)))
        except ImportError as err:
            notes.append(f"{name} left out: {err}")
            continue
        setup[name] = round(time.perf_counter() - t0, 2)
    if args.only:
        decoders = [d for d in decoders if d.name in args.only]
    shipped = pretrained_models_dir()
    fusion = Fusion.load(shipped / "fusion.json") if shipped else Fusion()
    for d in decoders:  # warm-up, untimed (the first call compiles the schema's grammar)
        run_case(cases[0], d, fusion)
        d.calls.clear()
    outcomes: dict[str, list[Any]] = {d.name: [] for d in decoders}
    loads = []
    for case in cases:
        for d in decoders:
            outcomes[d.name].append(run_case(case, d, fusion))
            loads.append(os.getloadavg()[0])
        print(case.name, " ".join(f"{d.name}={d.calls[-1][0]:.1f}s" for d in decoders), flush=True)
    rows = {}
    for d in decoders:
        lat = [c[0] for c in d.calls]
        toks = [c[1] for c in d.calls]
        outs = outcomes[d.name]
        rows[d.name] = {
            "calls": len(d.calls),
            "valid_json": _rate(sum(c[2] for c in d.calls), len(d.calls)),
            "latency_p50_s": round(statistics.median(lat), 3),
            "cpu_p50_s": round(statistics.median(c[3] for c in d.calls), 3),
            "output_tokens_median": statistics.median(toks),
            "tokens_per_s_median": round(statistics.median(c[1] / c[0] for c in d.calls if c[0] > 0), 1),
            "must_mention_recall": _rate(sum(o.mentioned for o in outs), sum(o.must_mention for o in outs)),
            "unsupported_rate_before": _rate(
                sum(o.unsupported_before for o in outs), sum(o.sentences_before for o in outs)
            ),
            "setup_s": setup.get(d.name, 0.0),
        }
    result = {
        "protocol": __doc__.split("\n\n", 2)[2].strip() if __doc__ else "",
        "command": "python -m bench.constrained "
        + " ".join(
            f"--{k} {v}" for k, v in (("cases", f"'{args.cases}'"), ("n", args.n), ("every", args.every))
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "cases": [c.name for c in cases],
        "load_avg_1m_median": round(statistics.median(loads), 2),
        "notes": notes,
        "rows": rows,
        "explanations": {k: [o.explanation for o in v] for k, v in outcomes.items()},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    cols = list(next(iter(rows.values())))
    md = [
        "# Constrained decoding: hand-written decoder vs libraries",
        "",
        result["protocol"],
        "",
        f"Cases: {len(cases)} ({', '.join(result['cases'])}); 1-minute load average, median over "
        f"the run: {result['load_avg_1m_median']}. Reproduce: `{result['command']}`.",
        "",
        "| decoder | " + " | ".join(cols) + " |",
        "|---|" + "---|" * len(cols),
        *[f"| {k} | " + " | ".join(str(r[c]) for c in cols) + " |" for k, r in rows.items()],
        "",
    ]
    OUT.with_suffix(".md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
