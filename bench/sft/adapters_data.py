"""Rows for bench/sft/adapters.py: seeded subsamples of the split by whole runs, per workflow.

Every run bundled in the package's sample is left out (the shipped adapters never saw them).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from flowsleuth.workflows.flowbench import require_root
from flowsleuth.workflows.loader import iter_runs
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_runs
from flowsleuth.workflows.splits import split_of_runs

from bench.sft.data import WORKFLOWS, Texts, load_workflow, subsample_keys

EXTRA = {"eht-imaging": "eht_imaging.zip", "somospie": "somospie.zip"}
ALL_WORKFLOWS = (*WORKFLOWS, *EXTRA)
Keys = set[tuple[str, str]]


@dataclass
class Rows:
    name: str
    train_texts: list[str] = field(default_factory=list)
    train_raw: list[str] = field(default_factory=list)
    val_texts: list[str] = field(default_factory=list)
    val_raw: list[str] = field(default_factory=list)
    tests: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    runs: dict[str, list[str]] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.train_texts),
            "validation": len(self.val_texts),
            **{f"test:{wf}": len(t[0]) for wf, t in self.tests.items()},
        }


def load_any(wf: str, cache: Path) -> list[Run]:
    """All runs of ``wf`` (the paper's three from parsed/, the other two from extra/ zips)."""
    if wf not in EXTRA:
        runs = load_workflow(wf, cache)
    else:
        path = cache / f"{wf}.pkl"
        if path.exists():
            runs = pickle.loads(path.read_bytes())
        else:
            runs = list(iter_runs(require_root() / "extra" / EXTRA[wf]))
            cache.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(runs))
    bundled = {p.stem for p in sample_runs()}
    return [r for r in runs if r.run_id not in bundled]


def _split_keys(runs: list[Run]) -> dict[str, Keys]:
    part = split_of_runs(runs)
    keys: dict[str, Keys] = {s: set() for s in ("train", "validation", "test")}
    for r in runs:
        keys[part[r.run_id]].update((r.run_id, j) for j in r.job_ids)
    return keys


def rows_for(name: str, template: str, n_train: int, n_val: int, n_test: int, cache: Path) -> Rows:
    """Train / validation rows of one workflow (or ``general``: an equal share of each of the
    five) and test rows of unseen runs of every workflow concerned."""
    wfs = list(ALL_WORKFLOWS) if name == "general" else [name]
    share = len(wfs)
    rows = Rows(name)
    for wf in wfs:
        runs = load_any(wf, cache)
        keys = _split_keys(runs)
        texts = Texts(runs)
        chosen = {
            "train": subsample_keys(keys["train"], n_train // share),
            "validation": subsample_keys(keys["validation"], n_val // share),
        }
        tr = texts.get(chosen["train"], template)
        va = texts.get(chosen["validation"], template)
        te_texts, te_raw = texts.get(subsample_keys(keys["test"], n_test), template)
        rows.train_texts += tr[0]
        rows.train_raw += tr[1]
        rows.val_texts += va[0]
        rows.val_raw += va[1]
        rows.tests[wf] = (te_texts, (np.asarray(te_raw) != "None").astype(int))
        for s, ks in chosen.items():  # provenance: the runs the rows came from
            rows.runs[f"{wf}:{s}"] = sorted({r for r, _ in ks})
    return rows
