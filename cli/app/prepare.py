"""Prepare a flowsleuth home: models (baseline, tree, diagnosis, fusion) and a job index.

The models are the pretrained ones shipped in :mod:`tools.pretrained` (fitted on Flow-Bench runs
that exclude every bundled run), copied into the home; only where an install ships none are
they fitted on the given runs instead. The job index is always built from the given runs. The
demo prepares a home from the bundled sample minus the run it then triages, so it never scores a
run its models or index saw.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.models import Run

MARKER = "prepared.json"
Step = Callable[[str], None]


def is_prepared(home: Path, key: str) -> bool:
    marker = home / MARKER
    return marker.is_file() and json.loads(marker.read_text()).get("key") == key


def models_version() -> str:
    """A short digest of the shipped models ('none' without them), for a cache key: a home
    prepared from older pretrained models is rebuilt."""
    from flowsleuth.tools.pretrained import pretrained_models_dir

    shipped = pretrained_models_dir()
    if shipped is None:
        return "none"
    return hashlib.sha256((shipped / "fusion.json").read_bytes()).hexdigest()[:10]


def prepare_home(
    home: Path, runs: Sequence[Run], key: str, step: Step = lambda _: None, pretrained: bool = True
) -> None:
    """Write models and a job index of ``runs`` under ``home`` (models/, index/).

    ``pretrained`` False (or an install without shipped models) fits the models on ``runs``."""
    from flowsleuth.retrieval import default_embedder, open_index
    from flowsleuth.tools.pretrained import pretrained_models_dir

    models = home / "models"
    shipped = pretrained_models_dir() if pretrained else None
    if shipped is not None:
        step("pretrained models")
        if models.exists():
            shutil.rmtree(models)
        shutil.copytree(shipped, models)
    else:
        _fit_models(models, runs, step)
    step("job index (embedding the labelled jobs)")
    index = open_index(home / "index", create=True)
    index.add_runs(list(runs), default_embedder())
    source = "pretrained" if shipped is not None else "fitted on the index runs"
    (home / MARKER).write_text(json.dumps({"key": key, "models": source, "runs": [r.run_id for r in runs]}))


def _fit_models(models: Path, runs: Sequence[Run], step: Step) -> None:
    from flowsleuth.tools.classifier import train_default_tree
    from flowsleuth.tools.diagnosis import DiagnosisModel

    models.mkdir(parents=True, exist_ok=True)
    step("baseline profile of the normal runs")
    baseline = BaselineProfile.fit(runs)
    baseline.save(models / "baseline.json")
    step("tree classifier")
    train_default_tree(models / "tree", runs=runs)
    step("run diagnosis model")
    DiagnosisModel.fit(list(runs), baseline=baseline, rounds=50).save(models / "diagnosis")
