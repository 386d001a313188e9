"""`why` always asks the SFT tool: with no home and no flags its score is evidence for any run (a
Flow-Bench run of any workflow, a workflow no adapter was trained on, a Pegasus submit
directory), and it leaves the fused score alone where the fusion was not fitted with it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flowsleuth.agent.verdict import Verdict
from flowsleuth.cli.main import app
from flowsleuth.tools.pretrained import pretrained_adapters_dir
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

runner = CliRunner()
RUN, JOB = "1000-genome-run0084", "individuals_ID0000047"
PEGASUS = Path(__file__).resolve().parents[1] / "fixtures" / "pegasus" / "process_wf_failure"


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An empty home, no config file, no plugins; no LLM (the verdict never needs one)."""
    monkeypatch.setenv("FLOWSLEUTH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FLOWSLEUTH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("FLOWSLEUTH_NO_PLUGINS", "1")
    monkeypatch.setenv("FLOWSLEUTH_BACKEND", "none")


def _why(adapters: Path | None, monkeypatch: pytest.MonkeyPatch, source: str = "", job: str = JOB) -> Verdict:
    if adapters is not None:
        monkeypatch.setattr("flowsleuth.tools.pretrained.ADAPTERS_DIR", adapters)
    result = runner.invoke(app, ["why", source or str(sample_run(RUN)), job, "--json"])
    assert result.exit_code == 0, result.output
    return Verdict.model_validate_json(result.stdout)


def _sft(v: Verdict) -> str:
    """The SFT score's evidence note (checked to carry a probability)."""
    sft = [e for e in v.evidence if e.tool == "sft_score" and e.name == "score"]
    assert len(sft) == 1, [e.tool for e in v.evidence]
    assert "P(anomalous)" in sft[0].note
    assert isinstance(sft[0].value, float) and 0.0 <= sft[0].value <= 1.0
    return sft[0].note


def _unseen_workflow_run(tmp_path: Path) -> str:
    """A Flow-Bench run under a workflow name no adapter was trained on."""
    out = tmp_path / "mystery-run0001.csv"
    shutil.copy(sample_run(RUN), out)
    return str(out)


@pytest.mark.parametrize(
    ("kind", "job"),
    [
        ("1000-genome", JOB),
        ("montage", "mDiffFit_ID0000040"),
        ("unseen workflow", JOB),
        ("pegasus submit dir", "ls_ID0000001"),
    ],
)
def test_sft_score_is_evidence_for_any_run_with_no_home_and_no_flags(
    bare: None, tiny_adapter_set: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str, job: str
) -> None:
    source = {
        "1000-genome": str(sample_run(RUN)),
        "montage": str(sample_run("montage-run0667")),
        "unseen workflow": _unseen_workflow_run(tmp_path),
        "pegasus submit dir": str(PEGASUS),
    }[kind]
    note = _sft(_why(tiny_adapter_set, monkeypatch, source, job))
    if kind == "pegasus submit dir":  # no stage-in/out data: the note says what the score rests on
        assert "of 16 input values missing (stage_in_delay" in note and "rests on the other" in note
    else:
        assert "missing" not in note


@pytest.mark.skipif(pretrained_adapters_dir() is None, reason="no shipped adapters")
def test_shipped_adapters_score_a_workflow_they_never_saw(
    bare: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The shipped set itself (its ``general`` adapter) answers for an unseen workflow."""
    _sft(_why(None, monkeypatch, _unseen_workflow_run(tmp_path)))


def test_sft_evidence_does_not_move_a_fusion_fitted_without_it(
    bare: None, tiny_adapter_set: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with_sft = _why(tiny_adapter_set, monkeypatch)
    without = _why(tmp_path / "no-adapters", monkeypatch)
    assert not any(e.tool == "sft_score" for e in without.evidence)
    assert (with_sft.score, with_sft.confidence, with_sft.is_anomalous) == (
        without.score,
        without.confidence,
        without.is_anomalous,
    )
