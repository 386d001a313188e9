"""Models shipped inside the package, so that triage works without Flow-Bench or a prepared home.

``models/`` has the layout of a flowsleuth home's ``models/`` directory: ``tree/`` (the
multi-class tree scorer on context features), ``diagnosis/`` (run class and culprit hosts),
``baseline.json`` (the normal-run profile) and ``fusion.json`` (per-workflow score fusion).
They were fitted on the train and validation runs of Flow-Bench's split by whole runs, leaving
out every run bundled in ``workflows/sample/runs`` (so the demo never scores a run they saw);
``provenance.json`` records the command, the runs and the test-split metrics.
Rebuild with ``make models`` (``scripts/build_models.py``; needs the Flow-Bench checkout).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PRETRAINED_DIR = Path(__file__).resolve().parent
MODELS_DIR = PRETRAINED_DIR / "models"
PROVENANCE_FILE = PRETRAINED_DIR / "provenance.json"
# LoRA adapters of the SFT scorer (one per known workflow plus `general`), with their own
# provenance.json; rebuilt by scripts/build_adapters.py.
ADAPTERS_DIR = PRETRAINED_DIR / "adapters"


def pretrained_models_dir() -> Path | None:
    """The shipped ``models/`` directory, or None when this install has none (a bare checkout)."""
    return MODELS_DIR if (MODELS_DIR / "tree" / "meta.json").is_file() else None


def pretrained_adapters_dir() -> Path | None:
    """The shipped SFT adapter set, or None when this install has none."""
    return ADAPTERS_DIR if (ADAPTERS_DIR / "adapters.json").is_file() else None


def provenance() -> dict[str, Any]:
    """How the shipped models were built and what they scored on held-out test runs."""
    if not PROVENANCE_FILE.is_file():
        return {}
    data: dict[str, Any] = json.loads(PROVENANCE_FILE.read_text())
    return data


PORTABLE_DIR = PRETRAINED_DIR / "portable"


def portable_models_dir() -> Path | None:
    """The shipped portable-feature tree models (for stampede-DB input), when this install has them."""
    return PORTABLE_DIR if (PORTABLE_DIR / "portable" / "meta.json").is_file() else None


GENERALIST_DIR = PRETRAINED_DIR / "generalist"


def generalist_dir() -> Path | None:
    """The shipped workflow-agnostic models (``zero/``, ``history/``; bench/gen_refit.py), or None."""
    return GENERALIST_DIR if (GENERALIST_DIR / "zero" / "meta.json").is_file() else None
