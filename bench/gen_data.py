"""Load the five Flow-Bench workflows into one frame for leave-one-workflow-out benchmarks.

Cached under ``bench/.cache/`` (gitignored): the first load parses ~2,200 CSVs (minutes on 2
cores); later loads read one pickle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from flowsleuth.tools.generalist.features import in_run_features, portable_frame
from flowsleuth.workflows.loader import iter_runs
from flowsleuth.workflows.names import canonical_workflow

SHARED = Path("/work/shared/flowbench")
SOURCES = (SHARED / "parsed", SHARED / "extra" / "eht_imaging.zip", SHARED / "extra" / "somospie.zip")
CACHE = Path(__file__).resolve().parent / ".cache"


def load_all(refresh: bool = False) -> pd.DataFrame:
    """Every job of every run: run frame columns plus ``workflow``, ``run_id``, ``label``."""
    path = CACHE / "gen_frames.pkl"
    if path.exists() and not refresh:
        return pd.read_pickle(path)
    t0 = time.perf_counter()
    parts = []
    for src in SOURCES:
        for run in iter_runs(src):
            f = run.frame.copy()
            f["workflow"] = canonical_workflow(run.workflow)
            f["run_id"] = run.run_id
            f["label"] = run.labels if run.labels is not None else "None"
            f["injected"] = run.injected or "None"
            parts.append(f.reset_index())
    df = pd.concat(parts, ignore_index=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    df.to_pickle(path)
    print(f"loaded {df.run_id.nunique()} runs, {len(df)} jobs in {time.perf_counter() - t0:.0f} s")
    return df


def _cached(name: str, frame: Callable[[], pd.DataFrame], refresh: bool) -> pd.DataFrame:
    path = CACHE / f"{name}.pkl"
    if path.exists() and not refresh:
        return pd.read_pickle(path)
    t0 = time.perf_counter()
    f = in_run_features(frame()).astype("float32")
    f.to_pickle(path)
    print(f"{name}: {f.shape} in {time.perf_counter() - t0:.0f} s")
    return f


def base_features(df: pd.DataFrame, refresh: bool) -> pd.DataFrame:
    """In-run features of every job (cached)."""
    return _cached("gen_inrun", lambda: df, refresh)


def portable_features(df: pd.DataFrame, refresh: bool) -> pd.DataFrame:
    """The same with the columns a stampede DB lacks blanked (cached)."""
    return _cached("gen_inrun_portable", lambda: portable_frame(df), refresh)


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description="Parse the five workflows into bench/.cache.").parse_args()
    d = load_all(refresh=True)
    print(d.groupby("workflow").agg(runs=("run_id", "nunique"), jobs=("run_id", "size")))
