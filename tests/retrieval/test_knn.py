from __future__ import annotations

import pytest
from flowsleuth.retrieval.index import JobIndex, Neighbour
from flowsleuth.retrieval.knn import INDEX, KNN_K, knn_vote, vote, vote_run
from flowsleuth.retrieval.query import EMBEDDER
from flowsleuth.workflows.contract import Services, Subject, ToolStatus
from flowsleuth.workflows.models import Run


def _n(label: str, distance: float) -> Neighbour:
    cls = "normal" if label == "None" else label.split("_")[0]
    return Neighbour(
        workflow="w",
        run="r",
        job="j",
        transformation="t",
        host="h",
        label=label,
        cls=cls,
        anomalous=label != "None",
        distance=distance,
    )


def test_vote_is_distance_weighted() -> None:
    # one close anomalous neighbour outweighs two far normal ones
    v = vote([_n("hdd_5", 0.0), _n("None", 0.09), _n("None", 0.09)])
    assert v is not None
    assert v.score == pytest.approx(100 / (100 + 10 + 10), abs=1e-3)
    assert v.anomalous and v.predicted_class == "hdd" and v.k == 3
    assert sum(v.class_weights.values()) == pytest.approx(1.0, abs=1e-3)


def test_vote_class_agrees_with_the_decision() -> None:
    v = vote([_n("cpu_2", 0.1), _n("hdd_5", 0.1), _n("None", 0.1), _n("None", 0.1), _n("None", 0.1)])
    assert v is not None and not v.anomalous and v.predicted_class == "normal"
    assert vote([]) is None


def test_knn_vote_tool_returns_measured_numbers(built_index: JobIndex, hdd_run: Run) -> None:
    job = hdd_run.job_ids[5]
    result = knn_vote(Subject(hdd_run, job, services=Services({INDEX: built_index, KNN_K: 7})))
    assert result.status is ToolStatus.OK and result.tool == "knn_vote"
    assert 0.0 <= result.data["score"] <= 1.0 and result.data["k"] == 7
    assert all(n["run"] != hdd_run.run_id for n in result.data["neighbours"])
    assert result.invocation == {"run": hdd_run.run_id, "job": job}
    assert dict(result.numbers())  # evidence the agent may quote


def test_batched_votes_match_the_tool(built_index: JobIndex, cpu_run: Run) -> None:
    subject = Subject(cpu_run, services=Services({INDEX: built_index}))
    votes = vote_run(built_index, subject, k=10)
    assert set(votes) == set(cpu_run.job_ids)
    job = cpu_run.job_ids[11]
    one = knn_vote(subject.for_job(job))
    v = votes[job]
    assert v is not None and one.data["score"] == v.score


def test_no_index_or_unknown_workflow_is_no_data(fresh_index: JobIndex, hdd_run: Run) -> None:
    job = hdd_run.job_ids[0]
    missing = knn_vote(Subject(hdd_run, job))
    assert missing.status is ToolStatus.NO_DATA and "no neighbours" in missing.summary
    unknown = knn_vote(Subject(hdd_run, job, services=Services({INDEX: fresh_index})))
    assert unknown.status is ToolStatus.NO_DATA and "no neighbours" in unknown.summary
    assert unknown.data == {}


def test_a_whole_run_is_not_a_job(built_index: JobIndex, hdd_run: Run) -> None:
    result = knn_vote(Subject(hdd_run, services=Services({INDEX: built_index})))
    assert result.status is ToolStatus.ERROR and "needs a job" in (result.error or "")


def test_index_failures_become_error_results(built_index: JobIndex, hdd_run: Run) -> None:
    from flowsleuth.retrieval.embedder import HashingEmbedder

    wrong = Services({INDEX: built_index, EMBEDDER: HashingEmbedder(dim=16)})
    result = knn_vote(Subject(hdd_run, hdd_run.job_ids[0], services=wrong))
    assert result.status is ToolStatus.ERROR and "built with embedder" in (result.error or "")
