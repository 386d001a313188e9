"""An archive tree of submit directories on the reader seam: every top-most submit dir, in
sorted order, read exactly as alone; nested sub-workflow dirs, copies, broken runs, symlink
loops and huge or deep trees."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.pegasus import tree
from flowsleuth.workflows.pegasus.writer import renamed_copy
from flowsleuth.workflows.readers import open_runs, reader_for
from flowsleuth.workflows.sample import sample_run

from .conftest import FIXTURES

NAMES = ["hierarchical_wf_failure", "hierarchical_wf_success", "process_wf_failure", "process_wf_success"]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """Pegasus' default layout, ``<base>/<user>/pegasus/<label>/runNNNN``, labels out of order."""
    base = tmp_path / "submit"
    for i, name in enumerate(reversed(NAMES)):
        shutil.copytree(FIXTURES / name, base / "alice" / "pegasus" / name.split("_")[0] / f"run000{i}")
    shutil.copytree(FIXTURES / "sample_wf_held", base / "bob" / "pegasus" / "drug" / "run0001")
    return base


def _submit_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/pegasus/*/run*"))


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert (a.run_id, a.workflow, a.source, a.parent_run) == (b.run_id, b.workflow, b.source, b.parent_run)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.status, b.status)


def test_every_submit_dir_is_read_in_sorted_order_as_alone(archive: Path) -> None:
    reader = reader_for(archive)
    assert reader.name == "pegasus"
    assert reader.count(str(archive)) == 5  # submit dirs (the progress bar's total)
    errors: list[DataError] = []
    runs = list(reader.read(str(archive), on_error=errors.append))
    alone = [run for d in _submit_dirs(archive) for run in open_runs(d)]
    assert not errors
    assert len(runs) == len(alone) == 6  # hierarchical_wf_success holds a sub-workflow
    for got, want in zip(runs, alone, strict=True):
        _same(got, want)


def test_nested_sub_workflow_dirs_are_not_read_twice(archive: Path) -> None:
    walk = tree.walk_archive(archive)
    nested = [f.path for f in walk.items if "blackdiamond" in str(f.path)]
    assert nested == []  # the walk never enters a submit dir
    assert (next(archive.rglob("blackdiamond_diamond_subworkflow.000")) / "braindump.yml").is_file()
    runs = list(open_runs(archive))
    ids = [r.run_id for r in runs]
    assert len(ids) == len(set(ids))
    sub = [r for r in runs if r.workflow == "blackdiamond"]
    assert len(sub) == 1 and sub[0].parent_run is not None  # from the root's DB, once


def test_a_broken_submit_dir_is_reported_and_the_rest_read(archive: Path) -> None:
    bad = archive / "alice" / "pegasus" / "aaa" / "run0001"
    bad.mkdir(parents=True)
    (bad / "aaa-0.stampede.db").write_bytes(b"not sqlite at all")
    bad_yaml = archive / "carol" / "pegasus" / "x" / "run0001"
    bad_yaml.mkdir(parents=True)
    (bad_yaml / "braindump.yml").write_text("{unclosed: [")
    errors: list[DataError] = []
    runs = list(open_runs(archive, on_error=errors.append))
    assert sorted(e.path for e in errors) == sorted(
        [str(bad / "aaa-0.stampede.db"), str(bad_yaml / "braindump.yml")]
    )
    assert all("\n" not in str(e) for e in errors)
    good = [d for d in _submit_dirs(archive) if d not in (bad, bad_yaml)]
    assert len(good) == 5
    assert [r.run_id for r in runs] == [r.run_id for d in good for r in open_runs(d)]
    with pytest.raises(DataError):  # without on_error the first bad run ends the read, one line
        list(open_runs(archive))


def test_a_copy_of_a_submit_dir_is_read_once_and_reported(archive: Path, tmp_path: Path) -> None:
    first = archive / "alice" / "pegasus" / "process" / "run0000"
    copy = archive / "zed" / "backup" / "run0000"
    shutil.copytree(first, copy)
    renamed = renamed_copy(first, archive / "zed" / "rerun" / "run0000", "rerun")
    errors: list[DataError] = []
    runs = list(open_runs(archive, on_error=errors.append))
    assert [e.path for e in errors] == [str(copy)]
    assert "duplicate wf_uuid" in str(errors[0]) and str(first) in str(errors[0])
    ids = [r.run_id for r in runs]
    assert len(ids) == len(set(ids)) == 7  # the renamed copy is another run: read
    assert [r.source for r in runs if r.source.startswith(str(renamed))] == [str(renamed)]


def test_mixed_tree_reads_csv_runs_and_submit_dirs_in_one_sorted_order(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    shutil.copytree(FIXTURES / "process_wf_success", root / "b_pegasus" / "run0001")
    (root / "a_csv").mkdir(parents=True)
    (root / "c_csv").mkdir()
    shutil.copy(sample_run("1000-genome-run0084"), root / "a_csv")
    shutil.copy(sample_run("1000-genome-run0010"), root / "c_csv")
    # a CSV inside a submit dir is part of that run's files, not a run
    shutil.copy(sample_run("1000-genome-run0059"), root / "b_pegasus" / "run0001")
    runs = list(open_runs(root))
    assert [r.run_id for r in runs] == [
        "1000-genome-run0084",
        "f00c0056-abd4-4e8e-b793-24eb760dda1f",
        "1000-genome-run0010",
    ]
    (alone,) = open_runs(root / "a_csv")
    pd.testing.assert_frame_equal(runs[0].frame, alone.frame)
    assert runs[0].source == alone.source
    # a tree of CSVs alone is still the CSV directory reader's
    assert reader_for(root / "a_csv").name == "directory"


def test_symlink_loops_and_second_links_are_walked_once(archive: Path) -> None:
    (archive / "alice" / "loop").symlink_to(archive)
    (archive / "link-to-drug").symlink_to(archive / "bob" / "pegasus" / "drug" / "run0001")
    (archive / "dangling").symlink_to(archive / "nowhere")
    walk = tree.walk_archive(archive)
    assert walk.submit_dirs == 5 and not walk.problems
    assert len({r.run_id for r in open_runs(archive)}) == len(list(open_runs(archive))) == 6


def test_unreadable_subdir_is_reported_and_the_rest_read(archive: Path, monkeypatch) -> None:
    locked = archive / "alice" / "pegasus" / "hierarchical"
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == locked:  # chmod 000 does not stop root, who runs these tests in CI
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(tree.os, "scandir", scandir)
    errors: list[DataError] = []
    runs = list(open_runs(archive, on_error=errors.append))
    assert [str(e) for e in errors] == [f"{locked}: cannot list the directory (Permission denied)"]
    assert [r.workflow for r in runs] == ["process", "process", "Drug-Combination-Therapy"]


def test_deep_and_huge_trees_are_bounded(tmp_path: Path, monkeypatch) -> None:
    deep = tmp_path / "deep"
    shutil.copytree(FIXTURES / "process_wf_success", deep / "a" / "b" / "c" / "run")
    shutil.copytree(FIXTURES / "sample_wf_held", deep / "x" / "run")
    monkeypatch.setattr(tree, "MAX_DEPTH", 2)
    errors: list[DataError] = []
    runs = list(open_runs(deep, on_error=errors.append))
    assert [r.workflow for r in runs] == ["Drug-Combination-Therapy"]
    assert [e.path for e in errors] == [str(deep / "a" / "b")]
    assert "deeper than 2 levels" in str(errors[0])
    monkeypatch.setattr(tree, "MAX_DIRS", 3)
    with pytest.raises(DataError, match="more than 3 directories"):
        list(open_runs(deep))
