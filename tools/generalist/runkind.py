"""Which anomaly hit a run (normal / cpu / hdd), from run-level summaries of the generalist
features and the job scores; trained on other workflows, like the job scorer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.tools.boosting import predict
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.groupstats import (
    codes_of,
    group_extreme,
    group_first,
    group_mean,
    group_quantile,
    group_std,
)

KINDS: tuple[str, ...] = ("normal", "cpu", "hdd")
_HOST_COLS = ("runtime", "cpu_eff", "iowait_share", "read_bps", "stime", "utime", "write_bps", "cpu")
_TAIL_COLS = ("b_runtime", "b_cpu_eff", "b_iowait_share", "b_read_bps", "r_cpu_eff", "r_iowait_share")
PARAMS: dict[str, object] = {
    "objective": "multiclass",
    "num_class": len(KINDS),
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 1,
    "seed": 42,
}
ROUNDS = 200


def run_summary(feats: pd.DataFrame, runs: pd.Series, score: np.ndarray | None = None) -> pd.DataFrame:
    """One row per run: spread of host z and host differences, run-wide history medians, and
    (when given) the job scores' top and mean."""
    code, names = codes_of(runs.to_numpy())
    n = len(names)
    have = set(feats.columns)
    spread = [
        f"{tag}{prefix}{c}"
        for prefix in ("r_", "b_")
        for c in _HOST_COLS
        for tag in ("hostz_", "hostdiff_")
        if f"{tag}{prefix}{c}" in have
    ]
    firsts = [c for c in feats.columns if c.startswith(("run_", "log_n_hosts"))]
    tails = [c for c in _TAIL_COLS if c in have]
    # numpy over one block per statistic (pandas per column and statistic cost most of a run)
    block = feats[spread].to_numpy(dtype=float)
    stats = {
        "max": group_extreme(block, code, n, largest=True),
        "min": group_extreme(block, code, n, largest=False),
        "std": group_std(block, code, n),
        "q90": group_quantile(block, code, n, 0.9),
    }
    cols: dict[str, np.ndarray] = {}
    for i, name in enumerate(spread):
        for stat, values in stats.items():
            cols[f"{name}_{stat}"] = values[:, i]
    first = group_first(feats[firsts].to_numpy(dtype=float), code, n)
    cols.update({name: first[:, i] for i, name in enumerate(firsts)})
    tail = feats[tails].to_numpy(dtype=float)
    q90, q10 = group_quantile(tail, code, n, 0.9), group_quantile(tail, code, n, 0.1)
    for i, c in enumerate(tails):
        cols[f"{c}_q90"] = q90[:, i]
        cols[f"{c}_q10"] = q10[:, i]
    if score is not None:
        s = np.asarray(score, dtype=float)
        cols["score_max"] = group_extreme(s, code, n, largest=True)
        cols["score_mean"] = group_mean(s, code, n)
        cols["score_q90"] = group_quantile(s, code, n, 0.9)
    block = np.column_stack(list(cols.values())) if cols else np.empty((n, 0))
    return pd.DataFrame(block, index=pd.Index(names), columns=list(cols))


@dataclass
class RunKindModel:
    booster: object
    features: list[str]

    def predict_proba(self, summary: pd.DataFrame) -> pd.DataFrame:
        p = predict(self.booster, summary.reindex(columns=self.features).astype(float))
        return pd.DataFrame(
            np.asarray(p).reshape(len(summary), len(KINDS)), index=summary.index, columns=list(KINDS)
        )

    def predict(self, summary: pd.DataFrame) -> pd.Series:
        p = self.predict_proba(summary)
        return p.idxmax(axis=1)

    @classmethod
    def fit(cls, summary: pd.DataFrame, kinds: pd.Series, weights: np.ndarray | None = None) -> RunKindModel:
        import lightgbm as lgb

        y = kinds.map({k: i for i, k in enumerate(KINDS)}).to_numpy()
        ds = lgb.Dataset(summary.astype(float), label=y, weight=weights)
        return cls(lgb.train(PARAMS, ds, num_boost_round=ROUNDS), list(summary.columns))

    def save(self, out: str | Path) -> None:
        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(d / "runkind.txt"))  # type: ignore[attr-defined]
        (d / "runkind.json").write_text(json.dumps({"features": self.features, "kinds": list(KINDS)}))

    @classmethod
    def load(cls, path: str | Path) -> RunKindModel:
        import lightgbm as lgb

        d = Path(path)
        try:
            meta = json.loads((d / "runkind.json").read_text())
            return cls(lgb.Booster(model_str=(d / "runkind.txt").read_text()), list(meta["features"]))
        except (OSError, ValueError, KeyError, lgb.basic.LightGBMError) as err:
            raise DataError(
                d, f"not a run-kind model ({str(err).splitlines()[0] if str(err) else type(err).__name__})"
            ) from None
