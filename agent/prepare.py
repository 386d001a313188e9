"""Prepare a flowsleuth home from labelled runs: baseline, tree model, diagnosis, job index.

The demo prepares one from the bundled sample, holding out the run it then triages, so the
demo never scores a run its models were trained on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from workflows.baseline import BaselineProfile
from workflows.models import Run

MARKER = "prepared.json"
Step = Callable[[str], None]


def is_prepared(home: Path, key: str) -> bool:
    marker = home / MARKER
    return marker.is_file() and json.loads(marker.read_text()).get("key") == key


def prepare_home(home: Path, runs: Sequence[Run], key: str, step: Step = lambda _: None) -> None:
    """Fit everything triage needs on ``runs`` and write it under ``home`` (models/, index/)."""
    from retrieval import default_embedder, open_index
    from tools.classifier import train_default_tree
    from tools.diagnosis import DiagnosisModel

    models = home / "models"
    models.mkdir(parents=True, exist_ok=True)
    step("baseline profile of the normal runs")
    baseline = BaselineProfile.fit(runs)
    baseline.save(models / "baseline.json")
    step("tree classifier")
    train_default_tree(models / "tree", runs=runs)
    step("run diagnosis model")
    DiagnosisModel.fit(list(runs), baseline=baseline, rounds=50).save(models / "diagnosis")
    step("job index (embedding the labelled jobs)")
    index = open_index(home / "index", create=True)
    index.add_runs(list(runs), default_embedder())
    (home / MARKER).write_text(json.dumps({"key": key, "runs": [r.run_id for r in runs]}))
