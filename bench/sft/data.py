"""Data for bench.sft: all Flow-Bench runs of a workflow, and both splits as job keys."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.text import render_inputs
from flowsleuth.workflows.flowbench import paper_split_rows, run_files
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_runs
from flowsleuth.workflows.splits import labelled_sentences, paper_split, split_of_runs

WORKFLOWS = ("1000-genome", "montage", "predict-future-sales")
Keys = set[tuple[str, str]]


@dataclass
class Split:
    """Which jobs train, validate and test; and which runs hold them."""

    name: str
    keys: dict[str, Keys]
    runs: dict[str, list[Run]]


def load_workflow(wf: str, cache: Path | None) -> list[Run]:
    """Every run of ``wf``; pickled under ``cache`` (outside the repo) to skip re-parsing."""
    path = cache / f"{wf}.pkl" if cache else None
    if path is not None and path.exists():
        return pickle.loads(path.read_bytes())
    runs = [load_run(f) for f in run_files(wf)]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(runs))
    return runs


def splits_of(wf: str, runs: list[Run]) -> dict[str, Split]:
    """The paper's split (job level, published rows) and the split by whole runs (60/20/20)."""
    test, val = paper_split_rows(wf)
    sent = labelled_sentences(runs)
    res = paper_split(sent, test, val)
    if sum(res.unmatched.values()):
        raise RuntimeError(f"{wf}: paper split left rows unmatched: {res.unmatched}")
    a = res.assignment
    paper_keys = {
        s: set(zip(a.loc[a.split == s, "run_id"], a.loc[a.split == s, "node_id"], strict=True))
        for s in ("train", "validation", "test")
    }
    by_run = split_of_runs(runs)
    run_keys: dict[str, Keys] = {s: set() for s in ("train", "validation", "test")}
    run_runs: dict[str, list[Run]] = {s: [] for s in run_keys}
    for r in runs:
        s = by_run[r.run_id]
        run_keys[s].update((r.run_id, j) for j in r.job_ids)
        run_runs[s].append(r)
    return {
        "paper": Split("paper", paper_keys, {s: runs for s in paper_keys}),
        "run": Split("run", run_keys, run_runs),
    }


def sample_splits(wf: str) -> tuple[dict[str, Split], Texts]:
    """``--smoke``: the bundled sample runs of ``wf``, their jobs split 60/20/20 at random. A check
    that the benchmark runs end to end, not a protocol (the sample has too few runs to split)."""
    runs = [load_run(p) for p in sample_runs() if p.stem.rsplit("-run", 1)[0] == wf]
    keys = sorted((r.run_id, j) for r in runs for j in r.job_ids)
    order = np.random.default_rng(0).permutation(len(keys))
    cut = np.split(order, [int(0.6 * len(keys)), int(0.8 * len(keys))])
    parts = {p: {keys[i] for i in idx} for p, idx in zip(("train", "validation", "test"), cut, strict=True)}
    # no runs: whole-run throughput is not timed on a smoke pass
    return {"smoke": Split("smoke", parts, {p: [] for p in parts})}, Texts(runs)


def restrict(run: Run, keys: Keys) -> Run:
    """The run cut down to the jobs in ``keys`` (for fitting a baseline on training jobs only)."""
    mask = np.array([(run.run_id, j) in keys for j in run.job_ids], dtype=bool)
    return Run(run.workflow, run.run_id, run.source, run.frame[mask], None, run.injected)


def truth(scores: pd.DataFrame, runs: list[Run]) -> pd.Series:
    """Raw labels aligned to a score frame (by run_id, node_id)."""
    lab = {(r.run_id, j): v for r in runs for j, v in zip(r.job_ids, r.labels, strict=True)}  # type: ignore[arg-type]
    return pd.Series(
        [lab[(r, n)] for r, n in zip(scores["run_id"], scores["node_id"], strict=True)],
        index=scores.index,
    )


def subsample_keys(keys: Keys, n: int | None, seed: int = 0) -> Keys:
    if n is None or len(keys) <= n:
        return keys
    ordered = sorted(keys)
    pick = np.random.default_rng(seed).choice(len(ordered), n, replace=False)
    return {ordered[i] for i in pick}


class TextSource(Protocol):
    def get(self, keys: Keys, template: str) -> tuple[list[str], list[str]]: ...


class Texts:
    """Rendered inputs per (run, template) from Flow-Bench runs, computed once per run."""

    def __init__(self, runs: list[Run]):
        self.runs = {r.run_id: r for r in runs}
        self.cache: dict[tuple[str, str], pd.Series] = {}
        self.labels = {r.run_id: r.labels for r in runs}

    def get(self, keys: Keys, template: str) -> tuple[list[str], list[str]]:
        texts, raw = [], []
        for run_id, node in sorted(keys):
            if (run_id, template) not in self.cache:
                self.cache[(run_id, template)] = render_inputs(self.runs[run_id], template)
            texts.append(self.cache[(run_id, template)].loc[node])
            raw.append(str(self.labels[run_id].loc[node]))  # type: ignore[union-attr]
        return texts, raw


def texts_of(splits: dict[str, dict[str, Split]]) -> dict[str, TextSource]:
    """A Flow-Bench text source per workflow (every run of the run split)."""
    return {wf: Texts([r for part in by["run"].runs.values() for r in part]) for wf, by in splits.items()}


class ExportTexts:
    """Rendered inputs read from a bench/sft/export.py file: the ``Texts`` interface without
    Flow-Bench (runs are not available, so end-to-end throughput is not measured from it)."""

    def __init__(self, jobs: dict[str, list[str]]):
        self.row = {k: i for i, k in enumerate(zip(jobs["run_id"], jobs["node"], strict=True))}
        self.jobs = jobs

    def get(self, keys: Keys, template: str) -> tuple[list[str], list[str]]:
        idx = [self.row[k] for k in sorted(keys)]
        paper, raw = self.jobs["paper"], self.jobs["raw"]
        if template == "paper":
            return [paper[i] for i in idx], [raw[i] for i in idx]
        suffix = self.jobs["suffix"]
        return [paper[i] + suffix[i] for i in idx], [raw[i] for i in idx]


def load_export(directory: Path, wf: str) -> tuple[dict[str, Split], ExportTexts]:
    """Both splits (keys only) and the texts of one workflow from bench/sft/export.py output."""
    import gzip
    import json

    with gzip.open(directory / f"{wf}.json.gz", "rt") as f:
        doc = json.load(f)
    jobs = doc["jobs"]
    keys = list(zip(jobs["run_id"], jobs["node"], strict=True))
    splits = {
        s: Split(s, {p: {keys[i] for i in idx} for p, idx in by.items()}, {p: [] for p in by})
        for s, by in doc["keys"].items()
    }
    return splits, ExportTexts(jobs)
