"""Helpers that write hostile variants of a bundled run (the prepared home and ``env`` are the
shared ones of tests/conftest.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from flowsleuth.workflows.sample import sample_run

TARGET = "1000-genome-run0084"  # the run the shared prepared home holds out (tests/conftest.py)
CLI = [sys.executable, "-c", "from flowsleuth.cli.main import app; app()"]


Edit = Callable[[pd.DataFrame], None]


@pytest.fixture
def variant(tmp_path: Path) -> Callable[..., Path]:
    """``variant(edit, name=..., run=...)``: a copy of a bundled run with ``edit`` applied to it
    (read as text, so what is written is exactly what the edit put there)."""

    def make(edit: Edit, *, name: str | None = None, run: str = TARGET, folder: str = "") -> Path:
        df = pd.read_csv(sample_run(run), dtype=str, keep_default_na=False)
        edit(df)
        d = tmp_path / folder if folder else tmp_path
        d.mkdir(parents=True, exist_ok=True)
        p = d / (name or f"{run}.csv")
        df.to_csv(p, index=False)
        return p

    return make
