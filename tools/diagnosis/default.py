"""The diagnosis model a library caller gets when it passes none.

Precedence for :func:`default_model`: an explicit path, else the pretrained model shipped in
:mod:`tools.pretrained` (fitted on the Flow-Bench train split), else a demo model fitted in
seconds from the bundled sample runs into the user cache directory (a bare checkout). The CLI
always passes its home's model (``<home>/models/diagnosis``, or the shipped one).
"""

from __future__ import annotations

from pathlib import Path

from flowsleuth.tools.diagnosis.model import ARTIFACT_NAME, DiagnosisModel
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sample import sample_runs

_loaded: dict[str, DiagnosisModel] = {}


def fit_default_diagnosis(out_dir: str | Path) -> Path:
    """Fit on the bundled sample runs (in-sample calibration: a demo, not a measurement) and
    save to ``out_dir``; returns the artifact path."""
    runs = [load_run(p) for p in sample_runs()]
    return DiagnosisModel.fit(runs, rounds=50).save(out_dir)


def _cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("flowsleuth")) / "diagnosis-default"


def _shipped() -> Path | None:
    from flowsleuth.tools.pretrained import pretrained_models_dir

    shipped = pretrained_models_dir()
    found = shipped / "diagnosis" if shipped is not None else None
    return found if found is not None and (found / ARTIFACT_NAME).is_file() else None


def default_model(path: str | Path | None = None) -> DiagnosisModel:
    """The diagnosis model to use when none is passed (loaded once per process)."""
    chosen = Path(path) if path else _shipped()
    target = chosen if chosen is not None else _cache_dir()
    key = str(target)
    if key not in _loaded:
        if chosen is None and not (target / ARTIFACT_NAME).is_file():
            fit_default_diagnosis(target)
        _loaded[key] = DiagnosisModel.load(target)
    return _loaded[key]
