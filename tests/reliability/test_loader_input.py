"""Hostile or unlucky run files: zip bombs, duplicate columns, implausible values, a broken
run inside a batch."""

from __future__ import annotations

import math
import shutil
import warnings
import zipfile
from pathlib import Path

import pytest
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.loader import iter_runs, load_run
from flowsleuth.workflows.sample import sample_run


def _bomb(path: Path, size: int) -> Path:
    """A zip whose one CSV member inflates to ``size`` bytes of zeros."""
    block = b"0" * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("normal/1000-genome-run0001.csv", "w", force_zip64=True) as fh,
    ):
        for _ in range(size >> 20):
            fh.write(block)
    return path


def test_zip_member_over_the_cap_is_refused_before_inflating(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLOWSLEUTH_MAX_MEMBER_MB", "4")
    bomb = _bomb(tmp_path / "bomb.zip", 8 << 20)
    with pytest.raises(DataError, match=r"refused: member inflates to 8 MiB, over the 4 MiB limit"):
        list(iter_runs(bomb))


def test_zip_member_with_a_bomb_ratio_is_refused(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.zip", 16 << 20)  # zeros deflate about 1000:1
    with pytest.raises(DataError, match=r"compression ratio .*:1 looks like a zip bomb"):
        list(iter_runs(bomb))


def test_duplicate_column_names_are_rejected(variant) -> None:
    def dup(df) -> None:  # type: ignore[no-untyped-def]
        df.columns = [("runtime" if c == "queue_delay" else c) for c in df.columns]

    with pytest.raises(DataError, match=r"duplicate column name\(s\): 'runtime'"):
        load_run(variant(dup))


@pytest.mark.parametrize("value", ["inf", "-5", "1e308", "-inf"])
def test_implausible_values_become_missing_with_a_note(variant, value: str) -> None:
    def edit(df) -> None:  # type: ignore[no-untyped-def]
        df.loc[3, "runtime"] = value

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warning may reach stderr
        run = load_run(variant(edit))
    job = run.job_ids[3]
    assert math.isnan(run.frame.at[job, "runtime"])
    assert len(run.notes) == 1
    assert "data problem: 1 implausible value(s)" in run.notes[0] and f"runtime of job {job}" in run.notes[0]
    assert load_run(sample_run("1000-genome-run0084")).notes == ()


def test_one_broken_run_in_a_directory_is_reported_and_skipped(tmp_path: Path) -> None:
    for r in ("1000-genome-run0084", "1000-genome-run0009"):
        shutil.copy(sample_run(r), tmp_path)
    (tmp_path / "1000-genome-run0050.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    errors: list[DataError] = []
    runs = list(iter_runs(tmp_path, on_error=errors.append))
    assert [r.run_id for r in runs] == ["1000-genome-run0009", "1000-genome-run0084"]
    assert len(errors) == 1 and errors[0].path.endswith("1000-genome-run0050.csv")
    with pytest.raises(DataError, match="run0050.csv: not a CSV"):
        list(iter_runs(tmp_path))


def test_one_broken_member_of_a_zip_is_reported_and_skipped(tmp_path: Path) -> None:
    archive = tmp_path / "runs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(sample_run("1000-genome-run0084"), "hdd_5/1000-genome-run0084.csv")
        zf.writestr("normal/1000-genome-run0001.csv", "node_id,runtime\n")
    errors: list[DataError] = []
    runs = list(iter_runs(archive, on_error=errors.append))
    assert [r.run_id for r in runs] == ["1000-genome-run0084"]
    assert "run0001.csv" in str(errors[0]) and "missing required column" in str(errors[0])


def test_implausible_values_are_a_note_in_why_and_triage(env, variant) -> None:
    from flowsleuth.cli.main import app
    from typer.testing import CliRunner

    job = "individuals_ID0000047"

    def edit(df) -> None:  # type: ignore[no-untyped-def]
        df.loc[df.iloc[:, 0] == job, "runtime"] = "1e308"
        df.loc[5, "stage_in_bytes"] = "inf"

    path = str(variant(edit))
    runner = CliRunner()
    why = runner.invoke(app, ["why", path, job, "--json"])
    triage = runner.invoke(app, ["triage", path, "-f", "jsonl", "--explain", "0"])
    for result in (why, triage):
        assert result.exit_code in (0, 3), result.output
        assert "data problem: 2 implausible value(s)" in result.stderr.replace("\n", " ")
        assert "Warning" not in result.stderr and "1e+308" not in result.stdout
    assert len(why.stdout) < 20_000  # no 309-digit numbers in the explanation
