from __future__ import annotations

from pathlib import Path

import pytest
from flowsleuth.retrieval.embedder import HashingEmbedder
from flowsleuth.retrieval.errors import IndexMismatchError
from flowsleuth.retrieval.index import JobIndex, collection_name
from flowsleuth.retrieval.query import job_vector
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.models import Run


def test_adding_the_same_run_twice_adds_nothing(fresh_index: JobIndex, hdd_run: Run) -> None:
    first = fresh_index.add_runs([hdd_run])
    assert first.added == len(hdd_run) == first.jobs
    again = fresh_index.add_runs([hdd_run])
    assert again.added == 0 and again.runs == 1
    assert fresh_index.count(hdd_run.workflow) == len(hdd_run)


def test_filtered_queries_survive_re_adding(
    fresh_index: JobIndex, genome_runs: list[Run], hdd_run: Run
) -> None:
    # chroma 1.5 loses vectors from filtered queries after upserting existing ids
    fresh_index.add_runs(genome_runs)
    fresh_index.add_runs(genome_runs[:2])
    v = job_vector(fresh_index, Subject(hdd_run, hdd_run.job_ids[5]))[None, :]
    hits = fresh_index.query(hdd_run.workflow, v, 5, where={"anomalous": True})[0]
    assert len(hits) == 5 and all(h.anomalous for h in hits)


def test_changed_labels_replace_old_vectors(fresh_index: JobIndex, hdd_run: Run) -> None:
    fresh_index.add_runs([hdd_run])
    assert hdd_run.labels is not None
    relabelled = Run(
        hdd_run.workflow,
        hdd_run.run_id,
        hdd_run.source,
        hdd_run.frame,
        hdd_run.labels.map(lambda _: "None"),
        "None",
    )
    report = fresh_index.add_runs([relabelled])
    assert report.added == 0
    stats = fresh_index.stats().collections[0]
    assert stats.classes == {"normal": len(hdd_run)} and stats.jobs == len(hdd_run)


def test_unlabelled_runs_are_skipped(fresh_index: JobIndex, hdd_run: Run) -> None:
    seen: list[str] = []
    report = fresh_index.add_runs([hdd_run.without_labels()], progress=lambda r: seen.append(r.run_id))
    assert report.skipped == [hdd_run.run_id] and report.jobs == 0
    assert seen == [hdd_run.run_id]


def test_stats_remove_and_drop(fresh_index: JobIndex, genome_runs: list[Run]) -> None:
    fresh_index.add_runs(genome_runs)
    (col,) = fresh_index.stats().collections
    assert col.workflow == "1000-genome" and col.runs == 6
    assert col.jobs == sum(len(r) for r in genome_runs)
    assert set(col.classes) == {"normal", "cpu", "hdd"}
    assert fresh_index.workflows() == ["1000-genome"]
    victim = genome_runs[0]
    assert fresh_index.remove_run(victim.workflow, victim.run_id) == len(victim)
    assert fresh_index.remove_run(victim.workflow, victim.run_id) == 0
    assert fresh_index.remove_run("montage", "montage-run0001") == 0
    assert fresh_index.stats().collections[0].runs == 5
    assert fresh_index.drop() == [collection_name("1000-genome", fresh_index.template)]
    assert fresh_index.stats().collections == []


def test_another_embedder_is_refused(fresh_index: JobIndex, hdd_run: Run) -> None:
    fresh_index.add_runs([hdd_run])
    with pytest.raises(IndexMismatchError, match="built with embedder"):
        fresh_index.add_runs([hdd_run], embedder=HashingEmbedder(dim=64))


def test_templates_live_in_separate_collections(tmp_path: Path, hdd_run: Run) -> None:
    from flowsleuth.retrieval.index import open_index

    emb = HashingEmbedder(dim=32)
    paper = open_index(tmp_path / "i", embedder=emb, template="paper-v1", create=True)
    context = open_index(tmp_path / "i", embedder=emb, template="context-v1", create=True)
    paper.add_runs([hdd_run])
    assert context.count(hdd_run.workflow) == 0
    context.add_runs([hdd_run])
    assert len(paper.stats().collections) == 2
    assert paper.drop(all_templates=False) == [collection_name(hdd_run.workflow, "paper-v1")]
    assert context.count(hdd_run.workflow) == len(hdd_run)


def test_collection_names_are_chroma_legal() -> None:
    assert collection_name("1000-genome", "paper-v1") == "1000-genome.paper-v1"
    assert collection_name("my wf/\u00e9", "paper-v1") == "my_wf__.paper-v1"
    assert collection_name("_x", "paper-v1")[0].isalnum()
