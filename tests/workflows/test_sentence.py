from __future__ import annotations

import pandas as pd
import pytest
from flowsleuth.workflows.flowbench import paper_split_rows, run_files
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.sentence import render, render_frame
from flowsleuth.workflows.splits import labelled_sentences, paper_split

PAPER_EXAMPLE = (
    "wms_delay is 6.0 queue_delay is 1006.0 runtime is 808.0 post_script_delay is 5.0 "
    "stage_in_delay is 15.0 stage_out_delay is 4.0 stage_in_bytes is 1014254291.0 "
    "stage_out_bytes is 401318.0 kickstart_executables_cpu_time is 771.8 "
)


def test_render_matches_the_paper_example() -> None:
    values = dict(
        zip(
            [
                "wms_delay",
                "queue_delay",
                "runtime",
                "post_script_delay",
                "stage_in_delay",
                "stage_out_delay",
                "stage_in_bytes",
                "stage_out_bytes",
                "kickstart_executables_cpu_time",
            ],
            [6, 1006, 808, 5, 15, 4, 1014254291, 401318, 771.8],
            strict=True,
        )
    )
    assert render(values) == PAPER_EXAMPLE


def test_missing_values_render_as_nan(hdd_run) -> None:
    text = render_frame(hdd_run.frame).loc["create_dir_1000-genome_0_condorpool"]
    assert "stage_in_delay is nan " in text
    assert text.endswith(" ")
    assert render_frame(hdd_run.frame).iloc[5] == render(hdd_run.frame.iloc[5].to_dict())


@pytest.mark.shared
@pytest.mark.parametrize("workflow", ["1000-genome", "montage", "predict-future-sales"])
def test_every_published_row_is_rendered_byte_for_byte(flowbench, workflow: str) -> None:
    """Render every job of the workflow; each published test/validation row must be among them,
    text and label, as a multiset, with zero rows left over."""
    runs = [load_run(f) for f in run_files(workflow, flowbench)]
    sentences = labelled_sentences(runs)
    test, validation = paper_split_rows(workflow, flowbench)
    result = paper_split(sentences, test, validation)
    assert result.unmatched == {"test": 0, "validation": 0}
    counts = result.assignment["split"].value_counts()
    assert counts["test"] == len(test)
    assert counts["validation"] == len(validation)
    assert counts["train"] == len(sentences) - len(test) - len(validation)
    # Byte-exact: the published text set is a subset of ours, not merely similar.
    assert set(test["text"]) <= set(sentences["text"])
    assert isinstance(result.assignment, pd.DataFrame)
