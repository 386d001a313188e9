"""Fit the shipped generalist models (tools/pretrained/generalist/) on all five workflows.

Same method as bench/generalize.py, every workflow in training: ``zero/`` (in-run features) and
``history/`` (plus history features from 20 unlabelled runs of each workflow, which then leave
training). Reproduce: ``nice .venv/bin/python -m bench.gen_refit``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from flowsleuth.tools.generalist.model import fit_generalist, workflow_weights
from flowsleuth.tools.generalist.runkind import RunKindModel, run_summary
from flowsleuth.tools.generalist.scoring import Generalist

from bench._common import machine
from bench.gen_data import load_all
from bench.gen_tiers import Split, add_history, run_kind
from bench.generalize import base_features

OUT = Path(__file__).resolve().parents[1] / "tools" / "pretrained" / "generalist"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-jobs", type=int, default=12000)
    ap.add_argument("--history-runs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=OUT)
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

    zero, zero_kind, zero_s = fit(feats, train)
    split = Split(train.copy(), np.zeros(len(df), dtype=bool))
    hf, _ = add_history(df, feats, split, "", [], a.history_runs, rng)
    hist, hist_kind, hist_s = fit(hf, split.train)
    for m, n in ((zero, "zero"), (hist, "history")):
        m.meta = {"variant": n, "training_jobs": int((train if n == "zero" else split.train).sum())}
    Generalist(zero, zero_kind, hist, hist_kind).save(a.out)
    prov = {
        **machine(),
        "command": "nice .venv/bin/python -m bench.gen_refit " + " ".join(sys.argv[1:]),
        "workflows": sorted(df["workflow"].unique()),
        "max_training_jobs_per_workflow": a.max_jobs,
        "history_runs_per_workflow": a.history_runs,
        "thresholds": {"zero": zero.threshold, "history": hist.threshold},
        "fit_seconds": {"zero": zero_s, "history": hist_s},
        "measured_by": "bench/generalize.py (leave-one-workflow-out)",
    }
    (a.out / "provenance.json").write_text(json.dumps(prov, indent=1))
    print(json.dumps(prov, indent=1))


if __name__ == "__main__":
    main()
