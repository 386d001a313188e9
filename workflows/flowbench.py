"""Access to the full Flow-Bench checkout for development, tests and benchmarks.

The product never needs this: a user has only the bundled sample and their own runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.names import PAPER_NAMES

_ENV = "FLOWSLEUTH_FLOWBENCH"


def flowbench_root() -> Path | None:
    """``$FLOWSLEUTH_FLOWBENCH``, else ``../shared/flowbench`` next to the checkout, else None."""
    env = os.environ.get(_ENV)
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent.parent
    candidates += [here.parent / "shared" / "flowbench", Path.cwd().parent / "shared" / "flowbench"]
    for c in candidates:
        if (c / "parsed").is_dir():
            return c
    return None


def require_root() -> Path:
    root = flowbench_root()
    if root is None:
        raise DataError("../shared/flowbench", f"Flow-Bench checkout not found (set ${_ENV})")
    return root


def run_files(workflow: str | None = None, root: Path | None = None) -> list[Path]:
    """All run CSVs under ``parsed/``, optionally of one workflow, sorted."""
    root = root or require_root()
    files = sorted((root / "parsed").glob("*/*.csv"))
    if workflow is not None:
        files = [f for f in files if f.stem.rsplit("-run", 1)[0] == workflow]
    return files


def paper_split_rows(workflow: str, root: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's published (test, validation) rows for a workflow, text kept byte-exact."""
    root = root or require_root()
    folder = root / "LLM_AD" / "data" / PAPER_NAMES[workflow]
    read = lambda name: pd.read_csv(  # noqa: E731
        folder / name, dtype={"text": str, "label": int}, keep_default_na=False
    )
    return read("test.csv"), read("validation.csv")
