"""One ``flowsleuth why RUN JOB`` in this process, its time split into phases; run by
``bench.why_startup`` in a fresh process per measurement, on either code tree (so it only
wraps functions both trees have, and the ones only the new tree has when they exist).

Phases (wall seconds, nested ones named ``a/b``): importing the CLI, reading the run, loading
the toolkit (of which: the SFT model(s), the other models), warming the run's lazy models,
scoring (``Toolkit.deps``: every tool, SFT included), the investigation (of which: loading
the embedded LLM), and what runs after the verdict is printed (``Toolkit.finish``: caching
an SFT export). Writes JSON: the phases, CPU seconds of the process, and which heavy modules
ended up imported.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HEAVY = (
    "torch",
    "transformers",
    "peft",
    "onnxruntime",
    "tokenizers",
    "langchain_core",
    "langgraph",
    "chromadb",
)
PHASES: dict[str, float] = defaultdict(float)


def wrap(owner: Any, attr: str, phase: str, longest: bool = False) -> None:
    """Time every call of ``owner.attr`` into ``phase``, summed (or the longest call), skipped
    when the tree lacks it."""
    fn = getattr(owner, attr, None)
    if fn is None:
        return

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.perf_counter() - t0
            PHASES[phase] = max(PHASES[phase], took) if longest else PHASES[phase] + took

    setattr(owner, attr, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("job")
    ap.add_argument("--backend", default="none")
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    from flowsleuth.cli.main import app

    PHASES["import CLI"] = time.perf_counter() - t0
    import flowsleuth.agent.investigate as inv
    import flowsleuth.agent.llm.embedded as emb
    import flowsleuth.cli.app.toolkit as tk
    import flowsleuth.workflows.readers as readers

    wrap(readers, "open_run", "read run")
    wrap(tk, "load_toolkit", "load toolkit")
    wrap(tk, "_shipped_sft", "load toolkit/SFT adapters")
    wrap(tk, "_load_models", "load toolkit/home or shipped models")
    wrap(tk.Toolkit, "warm", "warm (lazy SFT adapter)")
    wrap(tk.Toolkit, "deps", "score (all tools)")
    wrap(inv, "investigate", "investigate")
    wrap(emb, "_load", "investigate/load LLM", longest=True)  # its first call loads
    wrap(tk.Toolkit, "finish", "after verdict (cache SFT export)")
    t1 = time.perf_counter()
    try:
        app(["why", args.run, args.job, "--backend", args.backend, "--json"], standalone_mode=False)
    finally:
        end = time.perf_counter()
        out = {
            "total s": end - t0,
            "CPU s": time.process_time() - c0,
            "phases": {
                "import CLI": PHASES["import CLI"],
                **{k: v for k, v in PHASES.items() if k != "import CLI"},
            },
            "command s": end - t1,
            "imported": [m for m in HEAVY if m in sys.modules],
        }
        args.json.write_text(json.dumps(out))


if __name__ == "__main__":
    main()
