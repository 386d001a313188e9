"""The diagnosis on a small slice of the real Flow-Bench runs, split by whole runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from flowsleuth.tools.diagnosis import DiagnosisModel
from flowsleuth.tools.diagnosis.evaluate import score
from flowsleuth.workflows.flowbench import run_files
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.splits import split_of_runs


@pytest.mark.shared
@pytest.mark.slow
def test_unseen_1000genome_runs_get_their_kind(flowbench: Path) -> None:
    files = run_files("1000-genome", root=flowbench)
    runs = [load_run(p) for p in files[::5]]  # every fifth run: all five injected classes
    split = split_of_runs(runs)
    train = [r for r in runs if split[r.run_id] == "train"]
    val = [r for r in runs if split[r.run_id] == "validation"]
    test = [r for r in runs if split[r.run_id] == "test"]
    model = DiagnosisModel.fit(train, val, rounds=60)
    s = score(model, test)
    assert s.runs == len(test) >= 10
    assert s.run_kind_accuracy >= 0.8  # chance is about 0.4
    assert s.culprit_recall >= 0.5 and s.culprit_precision >= 0.5
