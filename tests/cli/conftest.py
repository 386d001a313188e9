"""A small prepared home (models + index) shared by the CLI tests, built once per session
from four bundled 1000 Genome runs; the hdd_5 run the tests triage is held out."""

from __future__ import annotations

from pathlib import Path

import pytest
from flowsleuth.cli.app.prepare import prepare_home
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sample import sample_run

TRAIN = ["1000-genome-run0009", "1000-genome-run0059", "1000-genome-run0134", "1000-genome-run0209"]
TARGET = "1000-genome-run0084"


@pytest.fixture(scope="session")
def prepared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    prepare_home(home, [load_run(sample_run(r)) for r in TRAIN], key="cli-tests")
    return home


@pytest.fixture
def env(prepared_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Point every command at the prepared home; no config file, no plugins, no LLM."""
    values = {
        "FLOWSLEUTH_HOME": str(prepared_home),
        "FLOWSLEUTH_CONFIG": str(tmp_path / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "FLOWSLEUTH_BACKEND": "none",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


@pytest.fixture
def target_csv() -> Path:
    return sample_run(TARGET)
