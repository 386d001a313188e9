"""Against a real ``chroma run`` server on a free local port (marker: integration)."""

from __future__ import annotations

import pytest
from flowsleuth.retrieval.embedder import HashingEmbedder
from flowsleuth.retrieval.fewshot import select_few_shot
from flowsleuth.retrieval.index import open_index
from flowsleuth.retrieval.knn import INDEX, knn_vote
from flowsleuth.workflows.contract import Services, Subject, ToolStatus
from flowsleuth.workflows.models import Run


@pytest.mark.integration
def test_index_and_query_through_a_server(chroma_server: str, genome_runs: list[Run], hdd_run: Run) -> None:
    index = open_index(chroma_url=chroma_server, embedder=HashingEmbedder(dim=64))
    report = index.add_runs(genome_runs)
    assert report.added == sum(len(r) for r in genome_runs)
    assert index.add_runs(genome_runs[:1]).added == 0
    (col,) = index.stats().collections
    assert col.runs == 6 and index.location == chroma_server

    subject = Subject(hdd_run, hdd_run.job_ids[5], services=Services({INDEX: index}))
    result = knn_vote(subject)
    assert result.status is ToolStatus.OK
    assert all(n["run"] != hdd_run.run_id for n in result.data["neighbours"])
    shots = select_few_shot(index, subject, k=4)
    assert {s.anomalous for s in shots} == {True, False}

    assert index.remove_run(hdd_run.workflow, hdd_run.run_id) == len(hdd_run)
    assert index.drop(all_templates=True)
