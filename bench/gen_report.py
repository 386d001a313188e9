"""One table per tier, one row per held-out workflow, from the bench/generalize.py result files
(``generalize``: every tier; ``generalize_portable``, ``generalize_portable_history``: the
portable model without and with history). Writes
``bench/results/generalize_tables.md``. Reproduce: ``python -m bench.gen_report``."""

from __future__ import annotations

import argparse
import json

from bench._common import results_dir

SOURCES = ("generalize", "generalize_portable", "generalize_portable_history")
COLS = (
    "held_out",
    "test_runs",
    "f1",
    "f1_flag_all",
    "auc",
    "ece",
    "run_kind_acc",
    "culprit_p",
    "culprit_r",
    "normal_run_flagged",
    "oracle_f1",
    "add_s",
)


def _fmt(v: object) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    out = results_dir()
    tiers: dict[str, list[dict]] = {}
    cmds = []
    for name in SOURCES:
        p = out / f"{name}.json"
        if not p.is_file():
            continue
        doc = json.loads(p.read_text())
        cmds.append(f"- `{doc['meta'].get('command', name)}` -> `{name}.json`")
        for r in doc["rows"]:
            tiers.setdefault(r["tier"], []).append(r)
    md = ["# Unseen workflows, leave-one-workflow-out: one table per tier", "", *cmds, ""]
    md += [
        "Columns: job F1 at the shipped decision rule; F1 of flagging every job; AUC; expected",
        "calibration error; run-kind accuracy (normal/cpu/hdd); culprit-host precision and recall;",
        "oracle F1 (threshold picked on the test data itself: a ceiling, not a result); seconds to",
        "learn the history / adapt to the labels. nan: not measured for that row.",
        "",
    ]
    for tier, rows in tiers.items():
        md += [f"## {tier}", "", "| " + " | ".join(COLS) + " |", "|" + "---|" * len(COLS)]
        md += ["| " + " | ".join(_fmt(r.get(c)) for c in COLS) + " |" for r in rows]
        md.append("")
    (out / "generalize_tables.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
