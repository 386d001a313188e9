"""Leave-one-workflow-out (LOWO) over the five Flow-Bench workflows, three tiers (issue #13).

For each held-out workflow W: train on the other four, test on W's runs.

* zero-shot: workflow-agnostic in-run features only (tools/generalist);
* history N: N unlabelled runs of W (drawn at random, never tested) give W's normal;
  training workflows get the same from N of their own runs;
* labelled K (on top of history 20): the history-20 model adapted to K labelled runs of W (at
  random, the first one anomalous; never tested), as ``flowsleuth label`` does: further boosting
  and a kNN vote, setting and threshold chosen on leave-one-labelled-run-out scores (K >= 2);
  the "rule before" rows: the default setting at the history model's threshold.

Columns: job F1 at the shipped decision rule, F1 of flagging every job, AUC, calibration error
(ECE), run-kind accuracy, culprit-host precision / recall. Reproduce:
``nice .venv/bin/python -m bench.generalize`` (first run parses the data: minutes; cached after).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from flowsleuth.tools.generalist.features import in_run_features, portable_frame

from bench._common import machine, write_results
from bench.gen_data import base_features, load_all, portable_features
from bench.gen_eval import culprits, job_metrics, oracle_f1
from bench.gen_tiers import (
    Split,
    adapt_and_score,
    add_history,
    families,
    fit_and_score,
    lowo_splits,
    pick_runs,
)


def portable(df: pd.DataFrame, res: dict, test: np.ndarray) -> dict:
    """The zero-shot model on the held-out runs with the stampede-missing columns blanked."""
    part = portable_frame(df[test])
    f = in_run_features(part)
    hosts = part["run_id"] + "\x1f" + part["kickstart_hostname"].fillna("")
    return {**res, "p": res["model"].proba(f, hosts), "kind_acc": float("nan"), "fit_s": 0.0}


def row(tier: str, wf: str, res: dict, y: np.ndarray, df: pd.DataFrame) -> dict:
    m = job_metrics(res["p"], y, res["threshold"])
    flagged = res["p"] >= res["threshold"]
    prec, rec = culprits(flagged, y, df["run_id"], df["kickstart_hostname"])
    normal = (df["injected"] == "None").to_numpy()
    return {
        "tier": tier,
        "held_out": wf,
        "test_runs": int(df["run_id"].nunique()),
        "f1": m["f1"],
        "f1_flag_all": m["f1_all"],
        "auc": m["auc"],
        "ece": m["ece"],
        "precision": m["precision"],
        "recall": m["recall"],
        "run_kind_acc": res["kind_acc"],
        "culprit_p": prec,
        "culprit_r": rec,
        # what a user of a healthy run sees: the share of its jobs flagged (0 is right)
        "normal_run_flagged": float(flagged[normal].mean()) if normal.any() else float("nan"),
        "oracle_f1": oracle_f1(res["p"], y),
        "threshold": res["threshold"],
        "fit_s": res["fit_s"],
        "add_s": res.get("add_s", 0.0),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--refresh", action="store_true")
    ap.add_argument("--max-jobs", type=int, default=6000, help="training jobs per workflow (whole runs)")
    ap.add_argument("--tiers", default="zero,portable,families,history,labelled")
    ap.add_argument("--only", default="", help="comma-separated held-out workflows, in this order")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="generalize")
    a = ap.parse_args()
    tiers = set(a.tiers.split(","))
    df = load_all(a.refresh)
    feats = base_features(df, a.refresh)
    y_all = (df["label"] != "None").to_numpy(dtype=int)
    rows: list[dict] = []
    wfs = sorted(df["workflow"].unique())
    for wf in a.only.split(",") if a.only else wfs:
        # one generator per held-out workflow: a run of some workflows draws what the full run draws
        rng = np.random.default_rng([a.seed, wfs.index(wf)])
        split = lowo_splits(df, wf, a.max_jobs, rng)
        test = split.test
        if "families" in tiers:
            for name, res in families(df, feats, y_all, split).items():
                rows.append(row(f"family:{name}", wf, res, y_all[test], df[test]))
        if "zero" in tiers:
            res = fit_and_score(df, feats, y_all, split)
            rows.append(row("zero-shot", wf, res, y_all[test], df[test]))
            print(rows[-1], flush=True)
            if "portable" in tiers:
                rows.append(
                    row(
                        "zero-shot, stampede columns only", wf, portable(df, res, test), y_all[test], df[test]
                    )
                )
        if "portable_model" in tiers:
            pf = portable_features(df, a.refresh)
            rp = fit_and_score(df, pf, y_all, split)
            rows.append(row("zero-shot portable model, stampede columns only", wf, rp, y_all[test], df[test]))
            print(rows[-1], flush=True)
        for n in (5, 20) if "portable_history" in tiers else ():
            # what a stampede-DB user gets after `baseline add`: past runs without the online counters
            hist_runs = pick_runs(df, wf, n, rng, exclude=set())
            s2 = Split(
                split.train.copy(),
                df["workflow"].eq(wf).to_numpy() & ~df["run_id"].isin(hist_runs).to_numpy(),
            )
            hf, add_s = add_history(
                portable_frame(df), portable_features(df, a.refresh), s2, wf, hist_runs, n, rng
            )
            rp = fit_and_score(df, hf, y_all, s2) | {"add_s": add_s}
            tag = f"portable model + history {n}, stampede columns only"
            rows.append(row(tag, wf, rp, y_all[s2.test], df[s2.test]))
            print(rows[-1], flush=True)
        for n in (5, 20) if ("history" in tiers or "labelled" in tiers) else ():
            hist_runs = pick_runs(df, wf, n, rng, exclude=set())
            s2 = Split(
                split.train.copy(),
                df["workflow"].eq(wf).to_numpy() & ~df["run_id"].isin(hist_runs).to_numpy(),
            )
            hf, add_s = add_history(df, feats, s2, wf, hist_runs, n, rng)
            res = fit_and_score(df, hf, y_all, s2)
            res["add_s"] = add_s
            if "history" in tiers:
                rows.append(row(f"history {n}", wf, res, y_all[s2.test], df[s2.test]))
                print(rows[-1], flush=True)
            if "labelled" in tiers and n == 20:
                lab_all = pick_runs(df, wf, 5, rng, exclude=set(hist_runs), anomalous_first=True)
                # the same 5 runs are tested in every k, so the rows compare like with like
                s3 = Split(s2.train, s2.test & ~df["run_id"].isin(lab_all).to_numpy())
                for k in (1, 2, 5):
                    lab = df["run_id"].isin(lab_all[:k]).to_numpy()
                    r3 = adapt_and_score(df, hf, y_all, s3, lab, res)
                    rows.append(row(f"labelled {k}", wf, r3, y_all[s3.test], df[s3.test]))
                    print(rows[-1], flush=True)
                    tag = f"labelled {k}, default setting, history threshold (the rule before)"
                    rows.append(row(tag, wf, r3["before"], y_all[s3.test], df[s3.test]))
        write_results(a.name, rows, _meta(a), "Generalisation to unseen workflows (LOWO), partial")
    write_results(a.name, rows, _meta(a), "Generalisation to unseen workflows (LOWO)")


def _meta(a: argparse.Namespace) -> dict:
    return {
        **machine(),
        "protocol": "leave-one-workflow-out over 5 Flow-Bench workflows; whole runs; threshold and "
        "calibration from inner LOWO on the 4 training workflows; history/labelled runs of the "
        "held-out workflow are drawn at random and never tested; one random generator per held-out "
        "workflow (seeded with [seed, its index among the five])",
        "max_training_jobs_per_workflow": a.max_jobs,
        "seed": a.seed,
        "oracle_f1": "best threshold chosen on the test data: a ceiling, not a result",
    }


if __name__ == "__main__":
    main()
