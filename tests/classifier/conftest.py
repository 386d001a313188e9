"""Fixtures of the classifier tests: the bundled sample split into train / validation jobs."""

from __future__ import annotations

import numpy as np
import pytest
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_runs


@pytest.fixture(scope="session")
def sample_loaded() -> list[Run]:
    return [load_run(p) for p in sample_runs()]


@pytest.fixture(scope="session")
def job_split(sample_loaded: list[Run]) -> tuple[set, set]:
    """A seeded 75 / 25 job-level split of the sample (train keys, validation keys)."""
    rng = np.random.default_rng(0)
    train, val = set(), set()
    for run in sample_loaded:
        for job in run.job_ids:
            (val if rng.random() < 0.25 else train).add((run.run_id, job))
    return train, val
