from __future__ import annotations

from pathlib import Path

import pytest
from flowsleuth.retrieval.embedder import HashingEmbedder
from flowsleuth.retrieval.errors import JobIndexError
from flowsleuth.retrieval.fewshot import select_few_shot
from flowsleuth.retrieval.index import JobIndex, open_index
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.models import Run


def _anomalous_job(run: Run) -> str:
    return next(j for j in run.job_ids if (lb := run.label_of(j)) is not None and lb.is_anomalous)


def test_examples_never_come_from_the_jobs_own_run(built_index: JobIndex, hdd_run: Run) -> None:
    for job in hdd_run.job_ids[:10]:
        shots = select_few_shot(built_index, Subject(hdd_run, job), k=6)
        assert shots and all(s.run != hdd_run.run_id for s in shots)


def test_examples_are_class_balanced(built_index: JobIndex, hdd_run: Run, normal_run: Run) -> None:
    for run, job in ((hdd_run, _anomalous_job(hdd_run)), (normal_run, normal_run.job_ids[7])):
        shots = select_few_shot(built_index, Subject(run, job), k=4)
        assert len(shots) == 4
        kinds = [s.anomalous for s in shots]
        assert kinds.count(True) == 2 and kinds.count(False) == 2


def test_same_transformation_comes_first(built_index: JobIndex, cpu_run: Run) -> None:
    job = _anomalous_job(cpu_run)
    shots = select_few_shot(built_index, Subject(cpu_run, job), k=4)
    transformation = cpu_run.job(job).transformation
    assert all(s.same_transformation and s.transformation == transformation for s in shots)
    assert "-> anomalous" in " ".join(s.prompt_line() for s in shots)


def test_a_bare_job_works_with_the_paper_template(
    tmp_path: Path, fake_embedder: HashingEmbedder, genome_runs: list[Run], hdd_run: Run
) -> None:
    index = open_index(tmp_path / "i", template="paper-v1", embedder=fake_embedder, create=True)
    index.add_runs(genome_runs)
    job = hdd_run.job(hdd_run.job_ids[4])
    shots = select_few_shot(index, job, k=3)
    assert len(shots) == 3 and all(s.run != hdd_run.run_id for s in shots)


def test_a_bare_job_needs_its_run_for_the_context_template(
    tmp_path: Path, fake_embedder: HashingEmbedder, hdd_run: Run
) -> None:
    index = open_index(tmp_path / "i", template="context-v1", embedder=fake_embedder, create=True)
    with pytest.raises(JobIndexError, match="needs the job's whole run"):
        select_few_shot(index, hdd_run.job(hdd_run.job_ids[0]))


def test_empty_or_unknown_workflow_gives_no_examples(fresh_index: JobIndex, hdd_run: Run) -> None:
    subject = Subject(hdd_run, hdd_run.job_ids[0])
    assert select_few_shot(fresh_index, subject) == []  # workflow never indexed
    fresh_index.add_runs([hdd_run])
    fresh_index.remove_run(hdd_run.workflow, hdd_run.run_id)
    assert fresh_index.count(hdd_run.workflow) == 0
    assert select_few_shot(fresh_index, subject) == []  # empty collection


def test_only_the_jobs_own_run_indexed_gives_no_examples(fresh_index: JobIndex, hdd_run: Run) -> None:
    fresh_index.add_runs([hdd_run])
    assert select_few_shot(fresh_index, Subject(hdd_run, hdd_run.job_ids[0])) == []
