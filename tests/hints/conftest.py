"""Fixtures for the hint, diagnosis and registry tests: plugins off, one demo model per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from flowsleuth.tools.diagnosis import DiagnosisModel, fit_default_diagnosis
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_runs


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model, fitted once from the bundled sample."""
    out = tmp_path_factory.mktemp("diagnosis")
    fit_default_diagnosis(out)
    return out


@pytest.fixture(scope="session")
def demo_model(demo_model_dir: Path) -> DiagnosisModel:
    return DiagnosisModel.load(demo_model_dir)


@pytest.fixture(scope="session")
def sample_baseline() -> BaselineProfile:
    return BaselineProfile.fit([load_run(p) for p in sample_runs()])


def _subset(run: Run, rows: list[str], name: str) -> Run:
    frame = run.frame.loc[rows].copy()
    labels = run.labels.loc[frame.index] if run.labels is not None else None
    return Run(run.workflow, f"{run.run_id}-{name}", run.source, frame, labels, run.injected)


@pytest.fixture(scope="session")
def culprit_id(cpu_run: Run) -> str:
    """A job of the cpu sample run that carries the anomaly label."""
    assert cpu_run.labels is not None
    return str(cpu_run.labels[cpu_run.labels != "None"].index[0])


@pytest.fixture(scope="session")
def single_host_run(cpu_run: Run) -> Run:
    frame = cpu_run.frame.copy()
    frame["kickstart_hostname"] = "only-host"
    return Run(cpu_run.workflow, "one-host", cpu_run.source, frame, cpu_run.labels, cpu_run.injected)


@pytest.fixture(scope="session")
def single_job_run(cpu_run: Run, culprit_id: str) -> Run:
    return _subset(cpu_run, [culprit_id], "one-job")


@pytest.fixture(scope="session")
def nan_run(cpu_run: Run, culprit_id: str) -> Run:
    """The cpu run with every numeric feature of the culprit job set to NaN."""
    frame = cpu_run.frame.copy()
    numeric = frame.select_dtypes("number").columns
    frame.loc[culprit_id, numeric] = np.nan
    return Run(cpu_run.workflow, "nan-job", cpu_run.source, frame, cpu_run.labels, cpu_run.injected)


@pytest.fixture
def cpu_subject(cpu_run: Run, sample_baseline: BaselineProfile) -> Subject:
    return Subject(cpu_run, baseline=sample_baseline)
