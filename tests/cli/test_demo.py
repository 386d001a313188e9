"""`flowsleuth demo` on the pretrained models: the held-out hdd_5 run is called hdd."""

from __future__ import annotations

from pathlib import Path

import flowsleuth.retrieval.index  # noqa: F401  (attribute access below)
import pytest
from flowsleuth import retrieval
from flowsleuth.cli.main import app
from flowsleuth.retrieval.embedder import HashingEmbedder
from typer.testing import CliRunner


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
