"""The diagnosis: label-free features, a model that round-trips, and honest edge cases."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from flowsleuth.tools.diagnosis import DiagnosisModel, diagnose_job, diagnose_run
from flowsleuth.tools.diagnosis.evaluate import Truth, score, score_pairs
from flowsleuth.tools.diagnosis.model import RunView
from flowsleuth.tools.diagnosis.schema import CulpritHost, RunDiagnosis
from flowsleuth.tools.diagnosis.truth import culprit_hosts
from flowsleuth.tools.registry import default_registry
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_runs


def test_features_never_see_labels(cpu_run: Run, demo_model: DiagnosisModel) -> None:
    with_labels = RunView.of(cpu_run, demo_model.baseline)
    without = RunView.of(cpu_run.without_labels(), demo_model.baseline)
    assert with_labels.run_feats.keys() == without.run_feats.keys()
    pd.testing.assert_frame_equal(with_labels.hosts, without.hosts)
    assert not any("anomaly" in c or "label" in c for c in demo_model.artifact.host_columns)


def test_model_round_trips(tmp_path: Path, demo_model: DiagnosisModel, hdd_run: Run) -> None:
    again = DiagnosisModel.load(demo_model.save(tmp_path))
    view = RunView.of(hdd_run, demo_model.baseline)
    assert again.run_probabilities(view) == demo_model.run_probabilities(view)
    assert (tmp_path / "diagnosis.json").stat().st_size < 2_000_000


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such diagnosis model"):
        DiagnosisModel.load(tmp_path / "nowhere")


@pytest.mark.parametrize("run_name", ["cpu_run", "hdd_run", "normal_run"])
def test_run_diagnosis_is_consistent(
    run_name: str, request: pytest.FixtureRequest, demo_model: DiagnosisModel
) -> None:
    run: Run = request.getfixturevalue(run_name)
    diag = diagnose_run(run, demo_model)
    assert math.isclose(sum(diag.class_probabilities.values()), 1.0, abs_tol=1e-3)
    assert diag.kind == ("normal" if diag.label == "None" else diag.label.split("_")[0])
    assert {c.host for c in diag.culprits} <= set(run.hosts)
    assert (diag.kind == "normal") == (not diag.culprits)
    assert 0.0 <= diag.share_of_jobs_affected <= 1.0 and diag.baseline_used


def test_demo_model_reads_the_sample_runs_it_was_fitted_on(demo_model: DiagnosisModel) -> None:
    # In-sample (the demo has no held-out runs): a sanity check, not a measurement.
    runs = [load_run(p) for p in sample_runs()]
    scores = score(demo_model, runs)
    assert scores.run_kind_accuracy >= 0.9
    assert scores.culprit_recall > 0.5


def test_job_diagnosis_follows_its_host(cpu_run: Run, culprit_id: str, demo_model: DiagnosisModel) -> None:
    subject = Subject(cpu_run)
    run_diag = diagnose_run(subject, demo_model)
    job = diagnose_job(subject.for_job(culprit_id), demo_model)
    flagged = {c.host for c in run_diag.culprits}
    assert (job.label == run_diag.label) == (job.host in flagged)
    assert set(job.hints) == {"host_peers", "transformation_baseline", "resource_signature", "dag_neighbours"}
    assert flagged & culprit_hosts(cpu_run)


def test_unknown_workflow_uses_only_in_run_comparisons(cpu_run: Run, demo_model: DiagnosisModel) -> None:
    unknown = Run("never-seen", "x-run1", "x.csv", cpu_run.frame, None, None)
    diag = diagnose_run(unknown, demo_model)
    assert not diag.baseline_used
    assert any("no normal profile" in n for n in diag.notes)


@pytest.mark.parametrize("fixture", ["single_host_run", "single_job_run", "nan_run"])
def test_degenerate_runs_still_get_a_diagnosis(
    fixture: str, request: pytest.FixtureRequest, culprit_id: str, demo_model: DiagnosisModel
) -> None:
    run: Run = request.getfixturevalue(fixture)
    job = diagnose_job(Subject(run, culprit_id), demo_model)
    assert job.node_id == culprit_id
    assert 0.0 <= job.confidence <= 1.0
    if run.frame["kickstart_hostname"].nunique() == 1:
        assert any("single host" in n for n in job.run.notes)


def test_the_diagnosis_tool_uses_the_default_model(cpu_run: Run, culprit_id: str) -> None:
    reg = default_registry(entry_points=False)
    run_res = reg.run("run_diagnosis", Subject(cpu_run), timeout_s=120)
    job_res = reg.run("run_diagnosis", Subject(cpu_run, culprit_id), timeout_s=120)
    assert run_res.status.value == "ok", run_res.error
    assert job_res.data["job_label"] in ("None", job_res.data["label"])
    assert "culprits" in run_res.data


def _diag(label: str, culprits: list[str]) -> RunDiagnosis:
    return RunDiagnosis(
        run_id="r",
        workflow="w",
        kind="normal" if label == "None" else label.split("_")[0],
        label=label,
        kind_confidence=1.0,
        label_confidence=1.0,
        class_probabilities={label: 1.0},
        culprits=[CulpritHost(host=h, confidence=1.0, n_jobs=1) for h in culprits],
        share_of_jobs_affected=0.5,
        n_jobs=4,
        n_hosts=2,
        baseline_used=True,
    )


def test_scores_follow_the_labels() -> None:
    truth = Truth("cpu_2", {"a"}, ["a", "a", "b", "b"], ["cpu_2", "cpu_2", "None", "None"])
    normal = Truth("None", set(), ["a", "b"], ["None", "None"])
    perfect = score_pairs([(_diag("cpu_2", ["a"]), truth), (_diag("None", []), normal)])
    assert perfect.job_kind_macro_f1 == 1.0 and perfect.culprit_precision == 1.0
    assert perfect.run_kind_accuracy == 1.0 and perfect.cpu_culprit_recall == 1.0
    wrong = score_pairs([(_diag("hdd_5", ["b"]), truth), (_diag("cpu_2", ["a"]), normal)])
    assert wrong.culprit_precision == 0.0 and wrong.culprit_recall == 0.0
    assert wrong.run_kind_accuracy == 0.0 and wrong.job_kind_macro_f1 < 0.5


def test_run_feature_std_is_pandas_std_bit_for_bit() -> None:
    import numpy as np
    import pandas as pd
    from flowsleuth.tools.diagnosis.features import _std

    rng = np.random.default_rng(3)
    for _ in range(2000):
        n = int(rng.integers(0, 30))
        v = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 8)
        if n and rng.random() < 0.5:
            v[rng.random(n) < 0.3] = np.nan
        want = pd.Series(v).std() if np.count_nonzero(~np.isnan(v)) > 1 else np.nan
        got = _std(v)
        assert got == want or (np.isnan(got) and np.isnan(want))
