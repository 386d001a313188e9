"""`python -m bench.sft --part side`: the paper's side experiments at CPU scale (bias of untrained
checkpoints, bias mitigation, catastrophic forgetting)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from flowsleuth.tools.classifier.calibration import softmax
from flowsleuth.tools.classifier.sft import default_backbone
from flowsleuth.tools.classifier.sft_adapter import load_backbone
from flowsleuth.tools.classifier.sft_train import TrainConfig, predict_logits
from rich.console import Console

from bench.sft.data import Split, TextSource, subsample_keys
from bench.sft.models import fit, test

console = Console()
GENOME, MONTAGE = "1000-genome", "montage"


def bias(seeds: range) -> dict[str, Any]:
    rows = []
    for seed in seeds:
        model, tok = load_backbone(default_backbone(), ["None", "anomalous"], seed)
        p = float(softmax(predict_logits(model, tok, [""], 128))[0, 1])
        rows.append({"seed": seed, "p_anomalous_empty": round(p, 4)})
    ps = np.array([r["p_anomalous_empty"] for r in rows])
    rows.append({"seed": "spread (max-min)", "p_anomalous_empty": round(float(ps.max() - ps.min()), 4)})
    return {
        "protocol": f"MiniLM with a fresh classification head for seeds {list(seeds)}, no training; "
        "P(anomalous) of the empty string (only [CLS][SEP]).",
        "rows": rows,
    }


def run_side(
    splits: dict[str, dict[str, Split]],
    tx: dict[str, TextSource],
    n_train: int | None,
    n_val: int,
    n_test: int | None,
    which: list[str],
    cfg0: TrainConfig,
) -> dict[str, Any]:
    exp: dict[str, Any] = {}
    if "bias" in which:
        exp["Bias: untrained checkpoints on an empty input"] = bias(range(5))
    if not {"balance", "forgetting"} & set(which):
        return {"experiments": exp}
    g, m = splits[GENOME]["paper"], splits[MONTAGE]["paper"]
    g_test = tx[GENOME].get(subsample_keys(g.keys["test"], n_test, seed=0), "paper")
    m_test = tx[MONTAGE].get(subsample_keys(m.keys["test"], n_test, seed=0), "paper")
    rows, base = [], None
    for balance in ("weights", "oversample", "none") if "balance" in which else ("weights",):
        cfg = dataclasses.replace(cfg0, balance=balance)
        model = fit(tx[GENOME], g, "paper", (n_train, n_val), cfg)
        ev, _ = test(model, *g_test)
        rows.append(
            {
                "balance": balance,
                "train_rows": model.meta.n_train_rows,
                "device": cfg0.device,
                "train_s": model.meta.train_seconds,
                **{k: ev[k] for k in ("accuracy", "f1", "precision", "recall", "roc_auc")},
            }
        )
        console.print(rows[-1])
        base = model if balance == "weights" else base
    if "balance" in which:
        exp["Bias mitigation (class imbalance), SFT"] = {
            "protocol": f"1000 Genome, paper split, paper sentences, {n_train} training rows, "
            f"{cfg0.epochs} epoch(s) at most, seed 42; "
            f"{n_test or 'all'} test rows. weights = class-weighted loss; oversample = minority drawn "
            "with replacement; none = plain loss. Threshold tuned on validation in every case.",
            "rows": rows,
        }
    if base is None or "forgetting" not in which:
        return {"experiments": exp}
    before, _ = test(base, *g_test)
    frows = [
        {
            "stage": "after 1000 Genome",
            "genome_f1": before["f1"],
            "genome_auc": before["roc_auc"],
            "montage_f1": test(base, *m_test)[0]["f1"],
        }
    ]
    for head_only in (False, True):
        cfg = dataclasses.replace(cfg0, head_only=head_only)
        cont = fit(tx[MONTAGE], m, "paper", (n_train, n_val), cfg, init=base)
        ge, _ = test(cont, *g_test)
        me, _ = test(cont, *m_test)
        frows.append(
            {
                "stage": f"then Montage ({'head only' if head_only else 'full fine-tuning'})",
                "genome_f1": ge["f1"],
                "genome_auc": ge["roc_auc"],
                "montage_f1": me["f1"],
            }
        )
        console.print(frows[-1])
    exp["Catastrophic forgetting, SFT"] = {
        "protocol": f"Train on 1000 Genome (paper split, {n_train} rows, {cfg0.epochs} epoch(s)), then "
        f"continue on Montage ({n_train} rows, same epochs, its own validation for early stopping and "
        f"calibration), once full fine-tuning and once head only; re-test both on "
        f"{n_test or 'all'} paper-split test rows each. F1 uses the threshold of the final model.",
        "rows": frows,
    }
    return {"experiments": exp}
