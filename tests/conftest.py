"""Fixtures every test area shares: the bundled sample, and the Flow-Bench checkout when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from flowsleuth.workflows.flowbench import flowbench_root
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_run, sample_runs

HDD_RUN = "1000-genome-run0084"
CPU_RUN = "1000-genome-run0134"
NORMAL_RUN = "1000-genome-run0009"


@pytest.fixture(scope="session")
def sample_paths() -> list[Path]:
    return sample_runs()


@pytest.fixture(scope="session")
def hdd_run() -> Run:
    return load_run(sample_run(HDD_RUN))


@pytest.fixture(scope="session")
def cpu_run() -> Run:
    return load_run(sample_run(CPU_RUN))


@pytest.fixture(scope="session")
def normal_run() -> Run:
    return load_run(sample_run(NORMAL_RUN))


@pytest.fixture(scope="session")
def flowbench() -> Path:
    """The full Flow-Bench checkout; tests that need it skip where it is absent."""
    root = flowbench_root()
    if root is None:
        pytest.skip("../shared/flowbench not present")
    return root


@pytest.fixture
def run_csv_text() -> str:
    """A small valid run CSV (three jobs of the bundled hdd run) to mangle in tests."""
    lines = sample_run(HDD_RUN).read_text().splitlines()
    return "\n".join(lines[:4]) + "\n"


@pytest.fixture(scope="session")
def tiny_adapter_set(tmp_path_factory: pytest.TempPathFactory, hdd_run: Run, normal_run: Run) -> Path:
    """A saved SFT adapter set with one tiny ``general`` LoRA adapter (compact inputs), trained in
    seconds on a few dozen jobs of two bundled runs: stands in for the shipped adapters."""
    from flowsleuth.tools.classifier.sft import SFTScorer
    from flowsleuth.tools.classifier.sft_adapter import LoraSpec
    from flowsleuth.tools.classifier.sft_set import AdapterSet, SetIndex
    from flowsleuth.tools.classifier.sft_train import TrainConfig

    anomalous = [j for j, v in hdd_run.labels.items() if v != "None"][:12]  # type: ignore[union-attr]
    normal = normal_run.job_ids[:12]
    train = {(hdd_run.run_id, j) for j in anomalous[:8]} | {(normal_run.run_id, j) for j in normal[:8]}
    val = {(hdd_run.run_id, j) for j in anomalous[8:]} | {(normal_run.run_id, j) for j in normal[8:]}
    cfg = TrainConfig(epochs=1, batch_size=8, lr=5e-4, eval_every=2, patience=1, progress=False)
    scorer = SFTScorer.fit(
        [hdd_run, normal_run],
        [hdd_run, normal_run],
        train_keys=train,
        val_keys=val,
        template="compact",
        config=cfg,
        adapter=LoraSpec(r=2, alpha=4),
    )
    out = tmp_path_factory.mktemp("adapters")
    return AdapterSet({"general": scorer}, SetIndex(workflows={}, fallback="general")).save(out)
