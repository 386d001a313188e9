"""`why` always asks the SFT tool: with no home and no flags its score is evidence, and it
leaves the fused score alone where the fusion was not fitted with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flowsleuth.agent.verdict import Verdict
from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

runner = CliRunner()
RUN, JOB = "1000-genome-run0084", "individuals_ID0000047"


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An empty home, no config file, no plugins; no LLM (the verdict never needs one)."""
    monkeypatch.setenv("FLOWSLEUTH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FLOWSLEUTH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("FLOWSLEUTH_NO_PLUGINS", "1")
    monkeypatch.setenv("FLOWSLEUTH_BACKEND", "none")


def _why(adapters: Path, monkeypatch: pytest.MonkeyPatch) -> Verdict:
    monkeypatch.setattr("flowsleuth.tools.pretrained.ADAPTERS_DIR", adapters)
    result = runner.invoke(app, ["why", str(sample_run(RUN)), JOB, "--json"])
    assert result.exit_code == 0, result.output
    return Verdict.model_validate_json(result.stdout)


def test_sft_score_is_evidence_with_no_home_and_no_flags(
    bare: None, tiny_adapter_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = _why(tiny_adapter_set, monkeypatch)
    sft = [e for e in v.evidence if e.tool == "sft_score" and e.name == "score"]
    assert len(sft) == 1 and 0.0 <= sft[0].value <= 1.0
    assert "sft-lora" in sft[0].note or "P(anomalous)" in sft[0].note


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
