"""Which decision rule transfers to an unseen workflow? Zero-shot tier, leave-one-workflow-out.

Every rule's threshold is chosen on the inner out-of-workflow scores of the four training
workflows only (never on the held-out one); each is then applied to the held-out workflow:

* ``pooled F1``: the F1-best cut on the pooled, workflow-weighted scores (the rule shipped before);
* ``mean workflow F1``: the cut that maximises the mean of the four training workflows' own F1,
  so that no single prevalence decides it;
* ``evidence floor``: the pooled cut, raised to the training prevalence when below it: a job is
  flagged only when its features make an anomaly likelier than for a job nothing is known about.

Columns as bench/generalize.py, plus ``normal_run_flagged``: the share of jobs flagged in the
held-out workflow's runs without any injected anomaly (0 is right). Reproduce:
``nice .venv/bin/python -m bench.gen_rules``.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from flowsleuth.tools.generalist.model import workflow_weights
from sklearn.metrics import f1_score

from bench._common import machine, write_results
from bench.gen_data import base_features, load_all
from bench.gen_tiers import fit_and_score, lowo_splits
from bench.generalize import row


def mean_workflow_f1_cut(p: np.ndarray, y: np.ndarray, wfs: np.ndarray) -> float:
    """The cut maximising the mean over workflows of each one's F1 (a grid of score quantiles)."""
    best, best_t = -1.0, 0.5
    for t in np.unique(np.quantile(p, np.linspace(0.02, 0.98, 97))):
        f = np.mean([f1_score(y[wfs == w], p[wfs == w] >= t, zero_division=0) for w in np.unique(wfs)])
        if f > best:
            best, best_t = float(f), float(t)
    return best_t


def rules(res: dict, y_tr: np.ndarray, wf_tr: pd.Series) -> dict[str, float]:
    model = res["model"]
    p_oof = model.calibration(model.oof)
    prior = float(np.average(y_tr, weights=workflow_weights(wf_tr)))
    return {
        "pooled F1": model.threshold,
        "mean workflow F1": mean_workflow_f1_cut(p_oof, y_tr, wf_tr.to_numpy()),
        "evidence floor": max(model.threshold, prior),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-jobs", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="gen_rules")
    a = ap.parse_args()
    df = load_all()
    feats = base_features(df, False)
    y = (df["label"] != "None").to_numpy(dtype=int)
    wfs = sorted(df["workflow"].unique())
    out: list[dict] = []
    for wf in wfs:
        rng = np.random.default_rng([a.seed, wfs.index(wf)])
        split = lowo_splits(df, wf, a.max_jobs, rng)
        res = fit_and_score(df, feats, y, split)
        for name, t in rules(res, y[split.train], df.loc[split.train, "workflow"]).items():
            out.append(row(f"zero-shot, {name}", wf, {**res, "threshold": t}, y[split.test], df[split.test]))
            print({k: out[-1][k] for k in ("tier", "held_out", "f1", "f1_flag_all", "normal_run_flagged")})
    meta = {**machine(), "max_training_jobs_per_workflow": a.max_jobs, "seed": a.seed}
    write_results(a.name, out, meta, "Zero-shot decision rules under leave-one-workflow-out")


if __name__ == "__main__":
    main()
