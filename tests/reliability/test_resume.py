"""Resumable triage output: runs keyed by path, a real SIGKILL, a real concurrent writer, and
stale or garbled progress files."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from flowsleuth.agent.triage_models import TriageRow
from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

from .conftest import CLI

runner = CliRunner()
RUNS = ["1000-genome-run0084", "1000-genome-run0010", "predict-future-sales-run0083", "1000-genome-run0134"]


def _rows(out: Path) -> list[TriageRow]:
    return [TriageRow.model_validate_json(line) for line in out.read_text().splitlines()]


def _triage(*args: str) -> object:
    return runner.invoke(app, ["triage", *args, "--explain", "0"])


def _runs_dir(tmp_path: Path) -> Path:
    d = tmp_path / "runs"
    d.mkdir()
    for r in RUNS:
        shutil.copy(sample_run(r), d)
    return d


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    cmd = [*CLI, "triage", *args, "--explain", "0"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_progress(proc: subprocess.Popen[bytes], progress: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if json.loads(progress.read_text())["runs"]:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    raise AssertionError("the triage wrote no progress")


def test_same_run_name_in_two_folders_is_two_runs(env, tmp_path: Path) -> None:
    root = tmp_path / "batch"
    for folder, run in (("a", "1000-genome-run0009"), ("b", "1000-genome-run0134")):
        (root / folder).mkdir(parents=True)
        shutil.copy(sample_run(run), root / folder / "1000-genome-run0009.csv")
    out = tmp_path / "o.jsonl"
    result = _triage(str(root), "-f", "jsonl", "--out", str(out), "--fail-on", "anomalous")
    assert result.exit_code == 3, result.output  # the cpu_2 copy has anomalies
    assert len(_rows(out)) == 274
    again = _triage(str(root), "-f", "jsonl", "--out", str(out), "--fail-on", "anomalous")
    assert again.exit_code == 3 and "resuming: 2 run(s)" in again.stderr
    assert len(_rows(out)) == 274


def test_real_sigkill_then_resume_loses_and_duplicates_nothing(env, tmp_path: Path) -> None:
    runs_dir = _runs_dir(tmp_path)
    out = tmp_path / "rows.jsonl"
    progress = tmp_path / "rows.jsonl.progress.json"
    # one run per batch, so the kill lands with runs left to score (see the concurrent writer)
    proc = _start({**env, "FLOWSLEUTH_BATCH_JOBS": "1"}, str(runs_dir), "-f", "jsonl", "--out", str(out))
    _wait_for_progress(proc, progress)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads(progress.read_text())["runs"]
    assert 1 <= len(done) < len(RUNS), "the kill came too late to test resuming"
    kept = out.read_bytes()[: json.loads(progress.read_text())["offset"]]
    result = _triage(str(runs_dir), "-f", "jsonl", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(kept)
    rows = _rows(out)
    assert len({(r.run, r.job_id) for r in rows}) == len(rows) == 137 + 137 + 165 + 137
    assert not list(tmp_path.glob("*.tmp"))


def test_a_progress_copy_left_by_a_killed_writer_is_removed(env, tmp_path: Path) -> None:
    """SIGKILL between writing the progress file's temporary copy and renaming it leaves the
    copy behind (the real-kill test above hits this now and then); the next triage drops it."""
    runs_dir = _runs_dir(tmp_path)
    out = tmp_path / "rows[1].jsonl"  # glob characters in the name are names
    stale = tmp_path / "rows[1].jsonl.progress.json.k1ll3d.tmp"
    stale.write_text("{")
    other = tmp_path / "rows.jsonl.progress.json.k1ll3d.tmp"  # another --out's: not ours
    other.write_text("{")
    result = _triage(str(runs_dir), "-f", "jsonl", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert not stale.exists() and other.exists()


def test_a_concurrent_writer_is_refused(env, tmp_path: Path) -> None:
    runs_dir = _runs_dir(tmp_path)
    out = tmp_path / "rows.jsonl"
    # One run per batch: once the first run is written, three are still to be scored. In one
    # batch all four were written within milliseconds, and the stop could come after the close.
    first = _start({**env, "FLOWSLEUTH_BATCH_JOBS": "1"}, str(runs_dir), "-f", "jsonl", "--out", str(out))
    _wait_for_progress(first, tmp_path / "rows.jsonl.progress.json")
    first.send_signal(signal.SIGSTOP)  # hold it mid-triage, lock taken
    try:
        second = subprocess.run(
            [*CLI, "triage", str(runs_dir), "-f", "jsonl", "--out", str(out), "--explain", "0"],
            env=env,
            capture_output=True,
            timeout=300,
        )
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=300) == 0
    assert second.returncode == 1
    err = second.stderr.decode()
    assert "is in use by another flowsleuth triage" in err and "Traceback" not in err
    rows = _rows(out)
    assert len({(r.run, r.job_id) for r in rows}) == len(rows) == 137 + 137 + 165 + 137


def _finished(env, tmp_path: Path) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    out = tmp_path / "rows.jsonl"
    assert _triage(str(sample_run(RUNS[0])), "-f", "jsonl", "--out", str(out)).exit_code == 0
    return out, tmp_path / "rows.jsonl.progress.json"


def test_an_emptied_out_file_is_refused_not_padded_with_nuls(env, tmp_path: Path) -> None:
    out, _ = _finished(env, tmp_path)
    out.write_bytes(b"")
    result = _triage(str(sample_run(RUNS[1])), "-f", "jsonl", "--out", str(out))
    assert result.exit_code == 1
    assert "truncated or replaced" in result.stderr and "--restart" in result.stderr
    assert b"\x00" not in out.read_bytes()
    restarted = _triage(str(sample_run(RUNS[1])), "-f", "jsonl", "--out", str(out), "--restart")
    assert restarted.exit_code == 0 and len(_rows(out)) == 137


@pytest.mark.parametrize("garbage", ["{not json", "[]", '{"version": 2, "format": "jsonl"}'])
def test_a_garbled_progress_file_is_one_line(env, tmp_path: Path, garbage: str) -> None:
    out, progress = _finished(env, tmp_path)
    progress.write_text(garbage)
    result = _triage(str(sample_run(RUNS[1])), "-f", "jsonl", "--out", str(out))
    assert result.exit_code == 1
    assert "unreadable progress file" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_edited_out_file_is_refused(env, tmp_path: Path) -> None:
    out, _ = _finished(env, tmp_path)
    text = out.read_text()
    out.write_text(text.replace('"is_anomalous":true', '"is_anomalous":false'))
    result = _triage(str(sample_run(RUNS[1])), "-f", "jsonl", "--out", str(out))
    assert result.exit_code == 1 and "does not match the progress file" in result.stderr


def test_a_foreign_out_file_is_not_overwritten(env, tmp_path: Path) -> None:
    out = tmp_path / "precious.jsonl"
    out.write_text("my own notes\n")
    result = _triage(str(sample_run(RUNS[0])), "-f", "jsonl", "--out", str(out))
    assert result.exit_code == 1 and "no triage progress" in result.stderr
    assert out.read_text() == "my own notes\n"
