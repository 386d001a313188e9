"""What a user teaches flowsleuth about their own workflows, kept in the home directory.

Layout under ``home``::

    history/<workflow>.json    unlabelled past runs (flowsleuth baseline add)
    labels/<workflow>.jsonl    labelled jobs with their features (flowsleuth label / feedback)

A workflow name becomes a file name only through :func:`slug`, so a hostile name cannot
escape the directory.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.tools.generalist.history import History
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.locking import exclusive
from pydantic import BaseModel, Field


def slug(workflow: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", workflow).strip("._") or "unknown"
    return s[:100]


class LabelledJob(BaseModel):
    workflow: str
    run: str
    job: str
    anomalous: bool
    features: dict[str, float] = Field(description="generalist features of the job, NaN dropped")


@dataclass(frozen=True)
class Labels:
    """Labelled feature rows of one workflow (the last label of a job wins)."""

    rows: pd.DataFrame
    y: np.ndarray
    hosts: pd.Series
    n_runs: int
    runs: pd.Series | None = None  # the run of each row (for the adapted model's threshold)


class Store:
    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    def history_path(self, workflow: str) -> Path:
        return self.home / "history" / f"{slug(workflow)}.json"

    def labels_path(self, workflow: str) -> Path:
        return self.home / "labels" / f"{slug(workflow)}.jsonl"

    def history(self, workflow: str) -> History | None:
        p = self.history_path(workflow)
        return History.load(p) if p.is_file() else None

    def add_history(self, new: History) -> tuple[int, int]:
        """Merge ``new``'s runs into the stored history of its workflow: (runs added, runs in
        the history). Read, merge and write under the file's lock, so a concurrent ``baseline
        add`` loses nothing."""
        p = self.history_path(new.workflow)
        with exclusive(p):
            hist = self.history(new.workflow) or History(workflow=new.workflow)
            added = hist.merge(new)
            if added:
                hist.save(p)
        return added, hist.n_runs

    def histories(self) -> list[History]:
        d = self.home / "history"
        return [History.load(p) for p in sorted(d.glob("*.json"))] if d.is_dir() else []

    def add_labels(self, jobs: Iterable[LabelledJob]) -> int:
        """Append, one writer at a time and in one write: concurrent ``label`` / ``feedback``
        commands never interleave their lines."""
        jobs = list(jobs)
        for wf in {j.workflow for j in jobs}:
            p = self.labels_path(wf)
            text = "".join(j.model_dump_json() + "\n" for j in jobs if j.workflow == wf)
            with exclusive(p), p.open("ab") as fh:
                fh.write(text.encode("utf-8"))
        return len(jobs)

    def labelled(self, workflow: str) -> list[LabelledJob]:
        p = self.labels_path(workflow)
        if not p.is_file():
            return []
        latest: dict[tuple[str, str], LabelledJob] = {}
        text = p.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(keepends=True), 1):
            if not line.strip() or not line.endswith("\n"):  # blank, or a write still going on
                continue
            try:
                j = LabelledJob.model_validate_json(line)
            except ValueError:
                raise DataError(p, "not a labelled job", row=n) from None
            latest[(j.run, j.job)] = j
        return list(latest.values())

    def labels(self, workflow: str) -> Labels | None:
        jobs = self.labelled(workflow)
        if not jobs:
            return None
        rows = pd.DataFrame([j.features for j in jobs]).astype(float)
        hosts = pd.Series([f"{j.run}\x1f{j.job}" for j in jobs])  # one job per key: no host blend
        y = np.array([int(j.anomalous) for j in jobs])
        runs = pd.Series([j.run for j in jobs])
        return Labels(rows, y, hosts, runs.nunique(), runs)


def feature_row(feats: pd.DataFrame, job: str) -> dict[str, float]:
    """One job's features as a JSON-safe dict (NaN and infinities dropped)."""
    row = feats.loc[job]
    return {str(k): float(v) for k, v in row.items() if isinstance(v, int | float) and math.isfinite(v)}


def dump(obj: object) -> str:
    return json.dumps(obj)
