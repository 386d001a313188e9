"""Fit the shipped generalist models (tools/pretrained/generalist/) on all five workflows.

Same method as bench/generalize.py, every workflow in training: ``zero/`` (in-run features),
``history/`` (plus history features from 20 unlabelled runs of each workflow, which then leave
training), and the same two on the columns a stampede DB has (``portable/``,
``portable-history/``). Reproduce: ``nice .venv/bin/python -m bench.gen_refit``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from flowsleuth.tools.generalist.features import portable_frame
from flowsleuth.tools.generalist.model import fit_generalist, workflow_weights
from flowsleuth.tools.generalist.runkind import RunKindModel, run_summary
from flowsleuth.tools.generalist.scoring import PORTABLE_HISTORY, Generalist

from bench._common import machine
from bench.gen_data import base_features, load_all, portable_features
from bench.gen_tiers import Split, add_history, run_kind

PARTS = ("zero", "history", "portable", PORTABLE_HISTORY)  # Generalist.parts(), in its fields' order
OUT = Path(__file__).resolve().parents[1] / "tools" / "pretrained" / "generalist"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-jobs", type=int, default=12000)
    ap.add_argument("--history-runs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--parts", default=",".join(PARTS), help="refit these; keep the rest")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    df = load_all()
    feats = base_features(df, False)
    y = (df["label"] != "None").to_numpy(dtype=int)
    hosts = df["run_id"] + "\x1f" + df["kickstart_hostname"].fillna("")
    kinds = run_kind(df.groupby("run_id")["injected"].first())
    train = np.zeros(len(df), dtype=bool)
    for wf in sorted(df["workflow"].unique()):
        runs = df.loc[df["workflow"] == wf, "run_id"].unique()
        per_run = (df["workflow"] == wf).sum() / len(runs)
        train |= df["run_id"].isin(rng.permutation(runs)[: int(a.max_jobs / per_run)]).to_numpy()

    def fit(f, mask):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        m = fit_generalist(f[mask], y[mask], df.loc[mask, "workflow"], hosts[mask])
        s = run_summary(f[mask], df.loc[mask, "run_id"], m.calibration(m.oof))
        run_wf = df.groupby("run_id")["workflow"].first().reindex(s.index)
        k = RunKindModel.fit(s, kinds.reindex(s.index), workflow_weights(run_wf))
        return m, k, round(time.perf_counter() - t0, 1)

    parts = set(a.parts.split(","))
    gen = Generalist.load(a.out) if parts != set(PARTS) else None

    def with_history(frame, f):  # type: ignore[no-untyped-def]
        split = Split(train.copy(), np.zeros(len(df), dtype=bool))
        hf, _ = add_history(frame, f, split, "", [], a.history_runs, rng)
        return hf, split.train

    inputs = {  # part -> (features, training rows), built only when refitted
        "zero": lambda: (feats, train),
        "history": lambda: with_history(df, feats),
        "portable": lambda: (portable_features(df, False), train),
        PORTABLE_HISTORY: lambda: with_history(portable_frame(df), portable_features(df, False)),
    }
    fitted: dict[str, tuple] = {}
    secs: dict[str, float] = {}
    for name in PARTS:
        if name in parts:
            f, mask = inputs[name]()
            m, k, secs[name] = fit(f, mask)
            m.meta = {"variant": name, "training_jobs": int(mask.sum())}
            fitted[name] = (m, k)
        else:
            assert gen is not None
            fitted[name] = gen.parts()[name]
    Generalist(*(x for name in PARTS for x in fitted[name])).save(a.out)
    old = json.loads((a.out / "provenance.json").read_text()) if (a.out / "provenance.json").is_file() else {}
    prov = {
        **machine(),
        "commands": [
            *old.get("commands", []),
            "nice .venv/bin/python -m bench.gen_refit " + " ".join(sys.argv[1:]),
        ],
        "workflows": sorted(df["workflow"].unique()),
        "max_training_jobs_per_workflow": a.max_jobs,
        "history_runs_per_workflow": a.history_runs,
        "thresholds": {name: m.threshold if m else None for name, (m, _) in fitted.items()},
        "fit_seconds": {**old.get("fit_seconds", {}), **secs},
        "portable": "portable and portable-history: fitted with the columns a stampede DB lacks blanked "
        "(kickstart_online_*, stage-in/out)",
        "measured_by": "bench/generalize.py (leave-one-workflow-out)",
    }
    (a.out / "provenance.json").write_text(json.dumps(prov, indent=1))
    print(json.dumps(prov, indent=1))


if __name__ == "__main__":
    main()
