"""A partial or corrupt model file is a note and a fallback to the shipped models, never a
segfault or a traceback; models are written atomically with their size and digest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flowsleuth.tools.classifier import load_scorer
from flowsleuth.tools.classifier.artifact import ArtifactError
from flowsleuth.workflows.sample import sample_run

from .conftest import CLI


def _home_copy(prepared_home: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(prepared_home / "models", home / "models")
    return home


def _cut(path: Path, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


@pytest.mark.parametrize("keep", [0.5, 0.02])
def test_a_truncated_tree_model_falls_back_to_the_shipped_one(
    env, prepared_home: Path, tmp_path: Path, keep: float
) -> None:
    home = _home_copy(prepared_home, tmp_path)
    model = home / "models" / "tree" / "model.txt"
    _cut(model, int(model.stat().st_size * keep))
    run = str(sample_run("1000-genome-run0084"))
    proc = subprocess.run(
        [*CLI, "triage", run, "-f", "jsonl", "--explain", "0"],
        env={**env, "FLOWSLEUTH_HOME": str(home)},
        capture_output=True,
        timeout=300,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 0, err  # not 139 (segfault), not a LightGBMError traceback
    assert "Traceback" not in err
    assert "model.txt" in err and "using the pretrained models shipped with flowsleuth instead" in err
    assert len(proc.stdout.decode().splitlines()) == 137


def test_a_model_without_a_recorded_digest_is_still_checked(prepared_home: Path, tmp_path: Path) -> None:
    home = _home_copy(prepared_home, tmp_path)
    tree = home / "models" / "tree"
    meta = json.loads((tree / "meta.json").read_text())
    meta.pop("files", None)  # as written before digests were recorded
    (tree / "meta.json").write_text(json.dumps(meta))
    _cut(tree / "model.txt", (tree / "model.txt").stat().st_size // 2)
    with pytest.raises(ArtifactError, match="incomplete LightGBM model"):
        load_scorer(tree)


def test_a_changed_model_file_fails_its_digest(prepared_home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    load_scorer(prepared_home / "models" / "tree").save(tree)  # type: ignore[attr-defined]
    text = (tree / "model.txt").read_text()
    (tree / "model.txt").write_text(text.replace("learning_rate", "learning_ratf", 1))
    with pytest.raises(ArtifactError, match="does not match its recorded sha256"):
        load_scorer(tree)


def test_saving_is_atomic_and_records_size_and_digest(
    prepared_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = load_scorer(prepared_home / "models" / "tree")
    out = tmp_path / "tree"
    scorer.save(out)  # type: ignore[attr-defined]
    saved = (out / "model.txt").read_bytes()
    check = json.loads((out / "meta.json").read_text())["files"]["model.txt"]
    assert check["size"] == len(saved)

    def killed(fd: int) -> None:
        raise KeyboardInterrupt  # a kill in the middle of writing the new weights

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        scorer.save(out)  # type: ignore[attr-defined]
    assert (out / "model.txt").read_bytes() == saved
    assert sorted(p.name for p in out.iterdir()) == ["baseline.json", "meta.json", "model.txt"]
    monkeypatch.undo()
    load_scorer(out)
