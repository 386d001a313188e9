"""Splits, history and model fits for bench/generalize.py (leave-one-workflow-out)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.calibration import best_f1_threshold
from flowsleuth.tools.generalist.adapt import adapt
from flowsleuth.tools.generalist.features import history_features
from flowsleuth.tools.generalist.history import History
from flowsleuth.tools.generalist.model import fit_generalist, workflow_weights
from flowsleuth.tools.generalist.runkind import RunKindModel, run_summary
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.splits import lowo_split


@dataclass
class Split:
    train: np.ndarray  # bool mask over all jobs
    test: np.ndarray


def run_kind(injected: pd.Series) -> pd.Series:
    return injected.str.split("_").str[0].replace({"None": "normal"})


def check_split(df: pd.DataFrame, wf: str, split: Split) -> None:
    """The held-out workflow's runs never reach its own training, and train/test share no run."""
    train_runs = set(df.loc[split.train, "run_id"])
    if set(df.loc[split.test, "run_id"]) & train_runs:
        raise AssertionError("a run is in both training and test")
    if (df.loc[split.train, "workflow"] == wf).any():
        raise AssertionError(f"{wf} jobs reached {wf}'s own training")


def lowo_splits(df: pd.DataFrame, wf: str, max_jobs: int, rng: np.random.Generator) -> Split:
    """Train: whole runs of the other workflows, at most ``max_jobs`` jobs each; test: all of wf."""
    runs = df[["run_id", "workflow"]].drop_duplicates()
    ws = lowo_split(zip(runs["run_id"], runs["workflow"], strict=True), wf)
    run_wf = runs.set_index("run_id")["workflow"]
    train = np.zeros(len(df), dtype=bool)
    for other in sorted(set(df["workflow"]) - {wf}):
        cand = sorted(r for r in ws.train if run_wf[r] == other)
        per_run = (df["workflow"] == other).sum() / len(cand)
        keep = rng.permutation(cand)[: max(2, int(max_jobs / per_run))]
        train |= df["run_id"].isin(keep).to_numpy()
    split = Split(train, df["run_id"].isin(ws.test).to_numpy())
    check_split(df, wf, split)
    return split


def pick_runs(
    df: pd.DataFrame,
    wf: str,
    n: int,
    rng: np.random.Generator,
    exclude: set[str],
    anomalous_first: bool = False,
) -> list[str]:
    runs = df.loc[df["workflow"] == wf, ["run_id", "injected"]].drop_duplicates("run_id")
    runs = runs[~runs["run_id"].isin(exclude)]
    order = list(rng.permutation(runs["run_id"].to_numpy()))
    if anomalous_first:
        bad = set(runs.loc[runs["injected"] != "None", "run_id"])
        first = next(r for r in order if r in bad)
        order.remove(first)
        order.insert(0, first)
    return [str(r) for r in order[:n]]


def _as_run(df: pd.DataFrame, run_id: str) -> Run:
    part = df[df["run_id"] == run_id]
    frame = part.drop(columns=["workflow", "run_id", "label", "injected"]).set_index("node_id")
    return Run(workflow=str(part["workflow"].iloc[0]), run_id=run_id, source="bench", frame=frame)


def add_history(
    df: pd.DataFrame,
    feats: pd.DataFrame,
    split: Split,
    wf: str,
    hist_runs: list[str],
    n: int,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, float]:
    """``feats`` plus history features for every training and test job; each workflow's history
    is n of its own runs (wf: ``hist_runs``), which leave training. Returns (features, seconds
    to learn wf's history)."""
    extra = []
    add_s = 0.0
    for w in sorted(df["workflow"].unique()):
        rows = (df["workflow"] == w).to_numpy() & (split.train | split.test)
        if not rows.any():
            continue
        hist = hist_runs if w == wf else pick_runs(df, w, n, rng, exclude=set())
        t0 = time.perf_counter()
        h = History(workflow=w)
        h.add(_as_run(df, r) for r in hist)
        if w == wf:
            add_s = time.perf_counter() - t0
        hf = history_features(df[rows], h.medians(), h.host_medians())
        extra.append(hf)
        split.train &= ~df["run_id"].isin(hist).to_numpy()
    hfull = pd.concat(extra).reindex(df.index).astype("float32")
    return pd.concat([feats, hfull], axis=1), add_s


def _hosts(df: pd.DataFrame) -> pd.Series:
    return df["run_id"] + "\x1f" + df["kickstart_hostname"].fillna("")


def _kind_acc(
    df: pd.DataFrame, km: RunKindModel, feats: pd.DataFrame, test: np.ndarray, p: np.ndarray
) -> tuple[float, pd.Series]:
    s_te = run_summary(feats[test], df.loc[test, "run_id"], p)
    kinds = run_kind(df.groupby("run_id")["injected"].first())
    pred = km.predict(s_te)
    return float((pred == kinds.reindex(s_te.index)).mean()), pred


def fit_and_score(df: pd.DataFrame, feats: pd.DataFrame, y: np.ndarray, split: Split) -> dict:
    hosts = _hosts(df)
    t0 = time.perf_counter()
    train = split.train
    model = fit_generalist(feats[train], y[train], df.loc[train, "workflow"], hosts[train])
    # run kind: summaries of training runs use out-of-workflow scores, as a new workflow would get
    s_tr = run_summary(feats[train], df.loc[train, "run_id"], model.calibration(model.oof))
    kinds = run_kind(df.groupby("run_id")["injected"].first())
    run_wf = df.groupby("run_id")["workflow"].first().reindex(s_tr.index)
    km = RunKindModel.fit(s_tr, kinds.reindex(s_tr.index), workflow_weights(run_wf))
    fit_s = time.perf_counter() - t0
    p = model.proba(feats[split.test], hosts[split.test])
    acc, _ = _kind_acc(df, km, feats, split.test, p)
    return {"p": p, "threshold": model.threshold, "kind_acc": acc, "fit_s": fit_s, "model": model, "kind": km}


def adapt_and_score(
    df: pd.DataFrame, feats: pd.DataFrame, y: np.ndarray, split: Split, labelled: np.ndarray, base: dict
) -> dict:
    """Tier 3: the tier-2 model adapted to the labelled runs (as ``flowsleuth label`` does), with
    setting and threshold chosen by leave-one-labelled-run-out; ``before``: the default setting at
    the tier-2 threshold (the rule before), for comparison."""
    if (labelled & split.test).any() or (labelled & split.train).any():
        raise AssertionError("a labelled run is also tested or trained on")
    hosts = _hosts(df)
    t0 = time.perf_counter()
    ad = adapt(
        base["model"],
        feats[labelled],
        y[labelled],
        hosts[labelled],
        int(df.loc[labelled, "run_id"].nunique()),
        runs=df.loc[labelled, "run_id"],
    )
    add_s = time.perf_counter() - t0
    p = ad.proba(feats[split.test], hosts[split.test])
    acc, _ = _kind_acc(df, base["kind"], feats, split.test, p)
    out = {"p": p, "threshold": ad.decision_threshold, "kind_acc": acc, "fit_s": add_s, "add_s": add_s}
    # the rule before leave-one-labelled-run-out: the default setting at the history threshold
    t0 = time.perf_counter()
    ad0 = adapt(base["model"], feats[labelled], y[labelled], hosts[labelled], ad.n_runs)
    p0 = ad0.proba(feats[split.test], hosts[split.test])
    acc0, _ = _kind_acc(df, base["kind"], feats, split.test, p0)
    s0 = time.perf_counter() - t0
    before = {"p": p0, "threshold": ad0.decision_threshold, "kind_acc": acc0, "fit_s": s0, "add_s": s0}
    return out | {"before": before}


def families(df: pd.DataFrame, feats: pd.DataFrame, y: np.ndarray, split: Split) -> dict[str, dict]:
    """Other families: an unsupervised per-run robust-z rule, and logistic regression with an
    inner-LOWO threshold."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    te = feats[split.test]
    z = np.nanmax(
        np.vstack([te["hostz_r_runtime"], -te["hostz_r_cpu_eff"], te["hostz_r_iowait_share"]]), axis=0
    )
    out = {
        "robust-z>3": {
            "p": np.clip(np.nan_to_num(z) / 6, 0, 1),
            "threshold": 0.5,
            "kind_acc": np.nan,
            "fit_s": 0.0,
        }
    }
    x = feats.replace([np.inf, -np.inf], np.nan).clip(-50, 50)
    wfs = df["workflow"]
    t0 = time.perf_counter()

    def lr() -> object:
        return make_pipeline(
            SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(C=0.05, max_iter=300)
        )

    oof = np.full(len(df), np.nan)
    for w in sorted(set(wfs[split.train])):
        inner = split.train & (wfs == w).to_numpy()
        rest = split.train & ~inner
        m = lr().fit(x[rest], y[rest], logisticregression__sample_weight=workflow_weights(wfs[rest]))  # type: ignore[attr-defined]
        oof[inner] = m.predict_proba(x[inner])[:, 1]  # type: ignore[attr-defined]
    t = best_f1_threshold(oof[split.train], y[split.train], workflow_weights(wfs[split.train]))
    m = lr().fit(
        x[split.train], y[split.train], logisticregression__sample_weight=workflow_weights(wfs[split.train])
    )  # type: ignore[attr-defined]
    out["logistic"] = {
        "p": m.predict_proba(x[split.test])[:, 1],
        "threshold": t,
        "kind_acc": np.nan,
        "fit_s": time.perf_counter() - t0,
    }  # type: ignore[attr-defined]
    return out
