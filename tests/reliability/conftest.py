"""The CLI tests' prepared home (models + index of four bundled runs), and helpers that write
hostile variants of a bundled run."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from flowsleuth.cli.app.prepare import prepare_home
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sample import sample_run

TRAIN = ["1000-genome-run0009", "1000-genome-run0059", "1000-genome-run0134", "1000-genome-run0209"]
TARGET = "1000-genome-run0084"  # hdd_5, held out of the prepared home
CLI = [sys.executable, "-c", "from flowsleuth.cli.main import app; app()"]


@pytest.fixture(scope="session")
def prepared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    prepare_home(home, [load_run(sample_run(r)) for r in TRAIN], key="reliability-tests")
    return home


@pytest.fixture
def env(prepared_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Every command on the prepared home; no config file, no plugins, no LLM."""
    values = {
        "FLOWSLEUTH_HOME": str(prepared_home),
        "FLOWSLEUTH_CONFIG": str(tmp_path / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "FLOWSLEUTH_BACKEND": "none",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return {**os.environ, **values}


@pytest.fixture
def target_csv() -> Path:
    return sample_run(TARGET)


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
