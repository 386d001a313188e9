"""`flowsleuth demo` on the pretrained models: the held-out hdd_5 run is called hdd."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import retrieval
import retrieval.index
from cli.main import app
from retrieval.embedder import HashingEmbedder


@pytest.mark.slow
def test_demo_names_the_held_out_runs_anomaly(env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # MiniLM is not under test: index and query with the hashing embedder.
    monkeypatch.setattr(retrieval, "default_embedder", HashingEmbedder)
    monkeypatch.setattr(retrieval.index, "default_embedder", HashingEmbedder)
    result = CliRunner().invoke(app, ["demo", "--home", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps the summary title
    assert "1000-genome-run0084" in text
    assert "run diagnosis hdd_5" in text
    assert (tmp_path / "demo" / "models" / "fusion.json").is_file()
