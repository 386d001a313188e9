"""Which anomaly hit a run (normal / cpu / hdd), from run-level summaries of the generalist
features and the job scores; trained on other workflows, like the job scorer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.workflows.errors import DataError

KINDS: tuple[str, ...] = ("normal", "cpu", "hdd")
_HOST_COLS = ("runtime", "cpu_eff", "iowait_share", "read_bps", "stime", "utime", "write_bps", "cpu")
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
    cols: dict[str, pd.Series] = {}
    g = feats.groupby(runs.to_numpy())
    for prefix in ("r_", "b_"):
        for c in _HOST_COLS:
            for tag in ("hostz_", "hostdiff_"):
                name = f"{tag}{prefix}{c}"
                if name not in feats.columns:
                    continue
                col = g[name]
                cols[f"{name}_max"] = col.max()
                cols[f"{name}_min"] = col.min()
                cols[f"{name}_std"] = col.std()
                cols[f"{name}_q90"] = col.quantile(0.9)
    for name in feats.columns:
        if name.startswith(("run_", "log_n_hosts")):
            cols[name] = g[name].first()
    for c in ("b_runtime", "b_cpu_eff", "b_iowait_share", "b_read_bps", "r_cpu_eff", "r_iowait_share"):
        if c in feats.columns:
            cols[f"{c}_q90"] = g[c].quantile(0.9)
            cols[f"{c}_q10"] = g[c].quantile(0.1)
    if score is not None:
        s = pd.Series(score, index=feats.index).groupby(runs.to_numpy())
        cols["score_max"] = s.max()
        cols["score_mean"] = s.mean()
        cols["score_q90"] = s.quantile(0.9)
    return pd.DataFrame(cols)


@dataclass
class RunKindModel:
    booster: object
    features: list[str]

    def predict_proba(self, summary: pd.DataFrame) -> pd.DataFrame:
        p = self.booster.predict(summary.reindex(columns=self.features).astype(float))  # type: ignore[attr-defined]
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
