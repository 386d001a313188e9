from __future__ import annotations

import pytest
from flowsleuth.retrieval.documents import CONTEXT_TEMPLATE, PAPER_TEMPLATE, doc_id, run_metadata, run_texts
from flowsleuth.retrieval.errors import JobIndexError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sentence import render_frame


def test_paper_template_is_the_paper_sentence(hdd_run: Run) -> None:
    texts = run_texts(hdd_run, PAPER_TEMPLATE)
    assert texts.equals(render_frame(hdd_run.frame))


def test_context_template_appends_ratio_phrases(hdd_run: Run) -> None:
    paper = run_texts(hdd_run, PAPER_TEMPLATE)
    ctx = run_texts(hdd_run, CONTEXT_TEMPLATE)
    job = hdd_run.job_ids[3]
    assert ctx[job].startswith(paper[job])
    assert "x the transformation median" in ctx[job] and "x peers" in ctx[job]


def test_unknown_template(hdd_run: Run) -> None:
    with pytest.raises(JobIndexError, match="unknown template"):
        run_texts(hdd_run, "v0")


def test_metadata_carries_labels_and_ids(hdd_run: Run) -> None:
    meta = run_metadata(hdd_run)
    assert len(meta) == len(hdd_run)
    anomalous = [m for m in meta if m["anomalous"]]
    assert anomalous and all(m["cls"] == "hdd" and m["label"] == "hdd_5" for m in anomalous)
    assert {m["run"] for m in meta} == {hdd_run.run_id}
    assert doc_id("r1", "j1") == "r1/j1"


def test_unlabelled_run_cannot_be_indexed(hdd_run: Run) -> None:
    with pytest.raises(JobIndexError, match="no labels"):
        run_metadata(hdd_run.without_labels())
