"""The demo diagnosis model: fitted on the bundled sample runs in seconds, cached on disk.

Precedence for :func:`default_model`: an explicit path, else ``$FLOWSLEUTH_DIAGNOSIS_MODEL``,
else the user cache directory (fitted there from the bundled sample on first use).
A model fitted on the whole Flow-Bench train split (``bench/diagnosis.py --save DIR``) is far
better than the demo one; point ``$FLOWSLEUTH_DIAGNOSIS_MODEL`` at it.
"""

from __future__ import annotations

import os
from pathlib import Path

from flowsleuth.tools.diagnosis.model import ARTIFACT_NAME, DiagnosisModel
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sample import sample_runs

ENV = "FLOWSLEUTH_DIAGNOSIS_MODEL"
_loaded: dict[str, DiagnosisModel] = {}


def fit_default_diagnosis(out_dir: str | Path) -> Path:
    """Fit on the bundled sample runs (in-sample calibration: a demo, not a measurement) and
    save to ``out_dir``; returns the artifact path."""
    runs = [load_run(p) for p in sample_runs()]
    return DiagnosisModel.fit(runs, rounds=50).save(out_dir)


def _cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("flowsleuth")) / "diagnosis-default"


def default_model(path: str | Path | None = None) -> DiagnosisModel:
    """The diagnosis model to use when none is passed (loaded once per process)."""
    chosen = path or os.environ.get(ENV)
    target = Path(chosen) if chosen else _cache_dir()
    key = str(target)
    if key not in _loaded:
        if not chosen and not (target / ARTIFACT_NAME).is_file():
            fit_default_diagnosis(target)
        _loaded[key] = DiagnosisModel.load(target)
    return _loaded[key]
