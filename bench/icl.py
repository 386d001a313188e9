"""ICL replication (paper §ICL): an LLM labels jobs from prompts alone, in four modes.

Modes: zero_shot, few_shot (per-class mean ± std + 3 static examples), dynamic (3 nearest
training jobs, numpy kNN on log features), cot (few-shot + "think step-by-step").
For each workflow, a fixed seeded sample of test jobs, stratified to the test set's abnormal
share (paper split and/or split by whole runs).
The LLM's own label is the classifier; parse failures count as "normal" and are reported.

Usage:
  .venv/bin/python -m bench.icl --n 200                       # embedded SmolLM2-135M
  .venv/bin/python -m bench.icl --backend openai --base-url http://127.0.0.1:8000/v1 --model smollm2
Options: --modes, --workflows, --split paper|run|both, --output constrained|free, --max-tokens.
Writes bench/results/icl.{json,md} (or --name).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
from flowsleuth.agent.llm import LLMError, LLMSettings, make_backend
from flowsleuth.agent.llm.base import LLMBackend
from flowsleuth.agent.llm.settings import DEFAULT_BASE_URL, DEFAULT_MODEL
from flowsleuth.workflows.flowbench import paper_split_rows, run_files
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.schema import PAPER_FEATURES
from flowsleuth.workflows.splits import labelled_sentences, paper_split, split_of_runs

from bench._common import command, machine, median, results_dir, write_results
from bench.icl_prompts import (
    MODES,
    ClassStats,
    IclExample,
    IclPrompter,
    parse_label,
    parse_sentence,
    static_examples,
)

WORKFLOWS = ("1000-genome", "montage", "predict-future-sales")


def load_splits(workflow: str, which: list[str]) -> dict[str, tuple[list, list]]:
    """split name -> (train examples, test examples) for one workflow."""
    runs = [load_run(f) for f in run_files(workflow)]
    sents = labelled_sentences(runs)
    out = {}
    if "paper" in which:
        test, val = paper_split_rows(workflow)
        a = paper_split(sents, test, val).assignment
        out["paper"] = (_examples(a[a.split == "train"]), _examples(a[a.split == "test"]))
    if "run" in which:
        where = split_of_runs(runs)
        s = sents.run_id.map(where)
        out["run"] = (_examples(sents[s == "train"]), _examples(sents[s == "test"]))
    return out


def _examples(df) -> list[IclExample]:
    return [IclExample(text=t, label=int(y)) for t, y in zip(df.text, df.label, strict=True)]


def stratified_sample(test: list[IclExample], n: int, seed: int) -> list[IclExample]:
    """``n`` jobs drawn with a fixed seed, keeping the test set's abnormal share (at least one
    abnormal job when there is any), so a small ``n`` still measures recall."""
    rng = np.random.default_rng(seed)
    pos = [e for e in test if e.label == 1]
    neg = [e for e in test if e.label == 0]
    n = min(n, len(test))
    k = min(len(pos), max(1 if pos else 0, round(n * len(pos) / len(test))))
    picks = [pos[int(i)] for i in rng.choice(len(pos), k, replace=False)]
    picks += [neg[int(i)] for i in rng.choice(len(neg), min(n - k, len(neg)), replace=False)]
    return [picks[int(i)] for i in rng.permutation(len(picks))]


class NumpyRetriever:
    """Nearest training jobs by Euclidean distance on standardised log1p features."""

    def __init__(self, pool: list[IclExample]) -> None:
        self.pool = pool
        x = self._vec([e.text for e in pool])
        self.mu, self.sd = x.mean(0), x.std(0) + 1e-9
        self.x = (x - self.mu) / self.sd

    @staticmethod
    def _vec(texts: list[str]) -> np.ndarray:
        rows = [[parse_sentence(t).get(f, np.nan) for f in PAPER_FEATURES] for t in texts]
        return np.nan_to_num(np.log1p(np.clip(np.array(rows, dtype=float), 0, None)))

    def __call__(self, text: str, k: int) -> list[IclExample]:
        q = (self._vec([text])[0] - self.mu) / self.sd
        idx = np.argsort(((self.x - q) ** 2).sum(1))[:k]
        return [self.pool[int(i)] for i in idx]


def classify(backend: LLMBackend, prompter: IclPrompter, text: str, output: str):
    """(label or None, tokens, seconds) for one job."""
    msgs = prompter.messages(text)
    start = time.perf_counter()
    if output == "free":
        try:
            reply = backend.chat_model.invoke(msgs)
        except Exception:  # raw chat model: openai/httpx errors count as failures too
            return None, 0, time.perf_counter() - start
        usage: dict[str, Any] = dict(getattr(reply, "usage_metadata", None) or {})
        label = parse_label(str(reply.content))
        return label, int(usage.get("total_tokens", 0)), time.perf_counter() - start
    try:
        answer = backend.narrate(msgs, prompter.schema)
    except LLMError:
        return None, backend.usage.total_tokens, time.perf_counter() - start
    return answer.label, backend.usage.total_tokens, time.perf_counter() - start  # type: ignore[attr-defined]


def metrics(truth: list[int], pred: list[str | None]) -> dict[str, float]:
    y = np.array(truth)
    p = np.array([1 if x == "abnormal" else 0 for x in pred])
    tp, fp = int(((p == 1) & (y == 1)).sum()), int(((p == 1) & (y == 0)).sum())
    fn = int(((p == 0) & (y == 1)).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {
        "acc": float((p == y).mean()),
        "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "precision": prec,
        "recall": rec,
        "fail_rate": float(np.mean([x is None for x in pred])),
        "pred_abnormal": float(p.mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="test jobs per workflow and split")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend", choices=["embedded", "openai"], default="embedded")
    ap.add_argument("--base-url", default=DEFAULT_BASE_URL)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--max-tokens", type=int, default=64, help="cap on generated tokens (CoT)")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    ap.add_argument("--workflows", nargs="+", choices=WORKFLOWS, default=list(WORKFLOWS))
    ap.add_argument("--split", choices=["paper", "run", "both"], default="paper")
    ap.add_argument("--output", choices=["constrained", "free"], default="constrained")
    ap.add_argument("--name", default="icl", help="results file stem")
    args = ap.parse_args()

    settings = LLMSettings(
        backend=args.backend,
        base_url=args.base_url,
        model=args.model,
        max_tokens=args.max_tokens,
        timeout_s=args.timeout,
    )
    backend = make_backend(settings)
    assert backend is not None
    which = ["paper", "run"] if args.split == "both" else [args.split]
    progress = results_dir() / f"{args.name}.progress.tmp"
    progress.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for wf in args.workflows:
        for split, (train, test) in load_splits(wf, which).items():
            sample = stratified_sample(test, args.n, args.seed)
            stats = ClassStats.from_examples(train)
            shots = static_examples(train, 3, seed=args.seed)
            retriever = NumpyRetriever(train)
            for mode in args.modes:
                prompter = IclPrompter(mode, stats=stats, examples=shots, retrieve=retriever)
                out = [classify(backend, prompter, e.text, args.output) for e in sample]
                row = {"split": split, "workflow": wf, "mode": mode, "n": len(sample)}
                row["base_rate"] = float(np.mean([e.label for e in sample]))
                row.update(metrics([e.label for e in sample], [o[0] for o in out]))
                row["tokens_p50"] = median([o[1] for o in out])
                row["latency_p50_s"] = median([o[2] for o in out])
                rows.append(row)
                with progress.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(json.dumps(row), flush=True)
    meta = {
        "backend": backend.name,
        "output": args.output,
        "n_per_workflow": args.n,
        "seed": args.seed,
        "max_tokens": args.max_tokens,
        "command": command(),
        **machine(),
    }
    write_results(args.name, rows, meta, f"ICL replication ({backend.name}, {args.output})")


if __name__ == "__main__":
    main()
