"""Fixtures of the retrieval tests: a deterministic embedder and small indexes of sample runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from flowsleuth.retrieval.embedder import HashingEmbedder
from flowsleuth.retrieval.index import JobIndex, open_index
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_runs


@pytest.fixture(scope="session")
def genome_runs() -> list[Run]:
    """The six bundled 1000 Genome runs: two normal, two cpu, two hdd."""
    return [load_run(p) for p in sample_runs() if p.stem.startswith("1000-genome")]


@pytest.fixture(scope="session")
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=128)


@pytest.fixture(scope="session")
def built_index(
    tmp_path_factory: pytest.TempPathFactory, genome_runs: list[Run], fake_embedder: HashingEmbedder
) -> JobIndex:
    """A read-only index of the bundled 1000 Genome runs (do not mutate it in tests)."""
    index = open_index(tmp_path_factory.mktemp("idx") / "index", embedder=fake_embedder, create=True)
    index.add_runs(genome_runs)
    return index


@pytest.fixture
def fresh_index(tmp_path: Path, fake_embedder: HashingEmbedder) -> JobIndex:
    return open_index(tmp_path / "index", embedder=fake_embedder, create=True)
