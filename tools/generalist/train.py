"""Stack runs into one frame and fit the generalist models on them (the refit and the tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from flowsleuth.tools.generalist.features import RUN_KEY, history_features, in_run_features
from flowsleuth.tools.generalist.history import History
from flowsleuth.tools.generalist.model import ROUNDS, GeneralistModel, fit_generalist, workflow_weights
from flowsleuth.tools.generalist.runkind import RunKindModel, run_summary
from flowsleuth.workflows.labels import parse_label
from flowsleuth.workflows.models import Run


def stack(runs: Sequence[Run]) -> pd.DataFrame:
    """All jobs of ``runs`` in one frame, with ``run_id`` and ``workflow`` columns."""
    parts = [r.frame.assign(**{RUN_KEY: r.run_id, "workflow": r.workflow}) for r in runs]
    return pd.concat(parts)


def host_keys(frame: pd.DataFrame) -> pd.Series:
    """Run-qualified host keys (the unit the labels and the host blend work on)."""
    run = frame[RUN_KEY].astype(str) if RUN_KEY in frame.columns else pd.Series("run", index=frame.index)
    return run + "\x1f" + frame["kickstart_hostname"].fillna("").astype(str)


def features_for(runs: Sequence[Run], histories: Mapping[str, History] | None = None) -> pd.DataFrame:
    """In-run features of every job, plus history features where ``histories`` has the workflow."""
    frame = stack(runs)
    feats = in_run_features(frame)
    if histories is None:
        return feats.reset_index(drop=True)
    parts = []
    wf = frame["workflow"].to_numpy()
    for name in dict.fromkeys(wf):
        rows = wf == name
        h = histories.get(str(name))
        med = h.medians() if h is not None else pd.DataFrame()
        hm = h.host_medians() if h is not None else None
        parts.append(history_features(frame[rows], med, hm).reset_index(drop=True))
    return pd.concat([feats.reset_index(drop=True), pd.concat(parts, ignore_index=True)], axis=1)


def labels_of(runs: Sequence[Run]) -> np.ndarray:
    out = []
    for r in runs:
        if r.labels is None:
            raise ValueError(f"{r.source}: run {r.run_id} has no labels")
        out += [int(parse_label(str(v)).is_anomalous) for v in r.labels.reindex(r.frame.index)]
    return np.asarray(out, dtype=int)


def run_kinds(runs: Sequence[Run]) -> pd.Series:
    return pd.Series({r.run_id: (r.injected or "None").split("_")[0].replace("None", "normal") for r in runs})


def fit_all(
    runs: Sequence[Run], histories: Mapping[str, History] | None = None, rounds: int = ROUNDS
) -> tuple[GeneralistModel, RunKindModel]:
    """Fit the job scorer and the run-kind model on labelled runs of two or more workflows."""
    frame = stack(runs).reset_index(drop=True)
    feats = features_for(runs, histories)
    y = labels_of(runs)
    wfs = frame["workflow"]
    hosts = host_keys(frame)
    model = fit_generalist(feats, y, wfs, hosts, rounds=rounds)
    assert model.oof is not None  # set by every fit
    summ = run_summary(feats, frame[RUN_KEY], model.calibration(model.oof))
    run_wf = frame.groupby(RUN_KEY)["workflow"].first().reindex(summ.index)
    kind = RunKindModel.fit(summ, run_kinds(runs).reindex(summ.index), workflow_weights(run_wf))
    return model, kind
