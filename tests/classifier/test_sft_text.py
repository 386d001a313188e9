"""The ``short`` SFT input form: every value a job has in few MiniLM tokens, missing ones left
out (and listed, so the SFT tool can say what its score rests on)."""

from __future__ import annotations

import numpy as np
import pytest
from flowsleuth.tools.classifier.text import N_INPUTS, _tight, missing_inputs, render_inputs
from flowsleuth.workflows.models import Run


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (0.93, ".93"),
        (-0.5, "-.5"),
        (5.55, "5.5"),
        (980.2, "980"),
        (1.2e9, "12e8"),
        (2.4e5, "24e4"),
    ],
)
def test_numbers_keep_two_significant_digits_in_few_characters(value: float, text: str) -> None:
    assert _tight(value) == text
    assert float(text) == pytest.approx(float(f"{value:.2g}"))


def test_short_carries_the_compact_values_in_fewer_tokens(hdd_run: Run) -> None:
    from flowsleuth.tools.classifier.sft_adapter import packaged_backbone_path
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(packaged_backbone_path())
    short, compact = render_inputs(hdd_run, "short"), render_inputs(hdd_run, "compact")
    assert short.index.equals(compact.index) and " | " in short.iloc[0]
    n_short = np.mean([len(x) for x in tok(list(short))["input_ids"]])
    n_compact = np.mean([len(x) for x in tok(list(compact))["input_ids"]])
    assert n_short < 0.75 * n_compact


def test_missing_values_are_left_out_and_listed(hdd_run: Run) -> None:
    frame = hdd_run.frame.copy()
    job = hdd_run.job_ids[0]
    frame.loc[job, "kickstart_executables_cpu_time"] = np.nan
    run = Run(hdd_run.workflow, hdd_run.run_id, hdd_run.source, frame, None, None)
    text = render_inputs(run, "short").loc[job]
    assert "cpu " not in text and "nan" not in text
    gaps = missing_inputs(run, "short")
    assert "kickstart_executables_cpu_time" in gaps.loc[job] and len(gaps.loc[job]) < N_INPUTS
    assert all(g == [] for g in missing_inputs(run, "paper"))
