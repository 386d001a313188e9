"""``triage ARCHIVE`` and ``triage PATH...`` on Pegasus submit directories: the rows of each
submit dir triaged alone, in sorted order; resumable, with workers or a Dask cluster."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flowsleuth.cli.main import app
from flowsleuth.workflows.pegasus.writer import renamed_copy
from typer.testing import CliRunner

from .conftest import FIXTURES

runner = CliRunner()
NAMES = ["hierarchical_wf_success", "process_wf_failure", "process_wf_success", "sample_wf_held"]
CLI = [sys.executable, "-c", "from flowsleuth.cli.main import app; app()"]


@pytest.fixture
def env(use_home, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An empty home (the shipped pretrained models are used), no config, no plugins, no LLM."""
    return {**os.environ, **use_home(tmp_path / "home")}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """Eight runs in Pegasus' layout: each fixture, and a copy of it with its own wf_uuids."""
    base = tmp_path / "submit" / "alice" / "pegasus"
    for name in NAMES:
        shutil.copytree(FIXTURES / name, base / name / "run0001")
        renamed_copy(FIXTURES / name, base / name / "run0002", "2")
    return tmp_path / "submit"


def _run_dirs(archive: Path) -> list[Path]:
    return sorted(archive.glob("alice/pegasus/*/run*"))


def _triage(*args: str, code: int = 0) -> tuple[str, str]:
    res = runner.invoke(app, ["triage", *args, "-f", "jsonl", "--explain", "0"])
    assert res.exit_code == code, res.output
    return res.stdout, res.stderr


def test_archive_rows_are_each_submit_dir_alone_in_sorted_order(env, archive: Path) -> None:
    whole, _ = _triage(str(archive))
    alone = "".join(_triage(str(d))[0] for d in _run_dirs(archive))
    assert whole == alone
    runs = [json.loads(line)["run"] for line in whole.splitlines()]
    assert len(dict.fromkeys(runs)) == 10  # 8 submit dirs, 2 of them with a sub-workflow
    # several PATHs (a shell glob) give the same bytes as the archive
    assert _triage(*map(str, _run_dirs(archive)))[0] == whole


def test_broken_and_copied_submit_dirs_are_reported_and_skipped(env, archive: Path) -> None:
    clean, _ = _triage(str(archive))
    bad = archive / "alice" / "pegasus" / "aaa" / "run0001"
    bad.mkdir(parents=True)
    (bad / "aaa-0.stampede.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 10)
    copy = archive / "backup" / "run0001"
    shutil.copytree(archive / "alice" / "pegasus" / "process_wf_success" / "run0001", copy)
    out, err = _triage(str(archive), code=1)
    assert out == clean
    assert f"skipped: {bad / 'aaa-0.stampede.db'}: truncated SQLite database" in err
    assert f"skipped: {copy}: duplicate wf_uuid" in err
    assert "2 run(s) skipped" in err and "Traceback" not in err
    # one path given twice: triaged once, the second reported
    one = str(archive / "alice" / "pegasus" / "process_wf_success" / "run0001")
    twice, err = _triage(one, one, code=1)
    assert twice == _triage(one)[0] and "duplicate wf_uuid" in err


def test_fail_on_anomalous_report_and_a_tree_of_nothing(env, archive: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    args = ["triage", str(archive), "-f", "jsonl", "--explain", "0", "--fail-on", "anomalous"]
    res = runner.invoke(app, [*args, "--report", str(report)])
    assert res.exit_code == 3, res.output  # the failure fixtures' jobs are flagged
    runs = dict.fromkeys(json.loads(line)["run"] for line in res.stdout.splitlines())
    page = report.read_text()
    assert len(runs) == 10 and all(r in page for r in runs)  # every run of the archive reported
    empty = tmp_path / "empty" / "a" / "b"
    empty.mkdir(parents=True)
    res = runner.invoke(app, ["triage", str(empty.parent.parent), "-f", "jsonl"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "holds no run CSV files and is not a Pegasus submit directory" in res.stderr


def test_workers_and_a_local_cluster_write_the_serial_bytes(env, archive: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    serial, _ = _triage(str(archive))
    out = tmp_path / "rows.jsonl"
    _triage(str(archive), "--workers", "2", "--out", str(out))
    assert out.read_text() == serial
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        assert _triage(str(archive), "--scheduler", cluster.scheduler_address)[0] == serial


def _done(progress: Path) -> dict[str, int]:
    try:
        return json.loads(progress.read_text())["runs"]
    except (OSError, ValueError):
        return {}


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigkill_then_resume_on_an_archive(env, archive: Path, tmp_path: Path, workers: str) -> None:
    serial, _ = _triage(str(archive))
    out = tmp_path / "rows.jsonl"
    progress = tmp_path / "rows.jsonl.progress.json"
    cmd = [*CLI, "triage", str(archive), "-f", "jsonl", "--out", str(out), "--explain", "0", "-w", workers]
    # one run per batch or task: the kill lands between runs
    proc = subprocess.Popen(
        cmd,
        env={**env, "FLOWSLEUTH_BATCH_JOBS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the kill takes the pool's processes too
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None and not _done(progress):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _done(progress)
    assert 1 <= len(before) < 10, "kill came too late to test resuming"
    res = runner.invoke(
        app, ["triage", str(archive), "-f", "jsonl", "--out", str(out), "--explain", "0", "-w", workers]
    )
    assert res.exit_code == 0, res.output
    assert f"resuming: {len(before)} run(s)" in res.stderr
    assert out.read_text() == serial  # nothing lost, nothing twice, in archive order


def test_each_workflow_of_one_db_is_its_own_run_key(env, tmp_path: Path) -> None:
    """Through a DB URL every workflow of a hierarchical run has the URL as its source: the
    progress file keys each by its wf_uuid too, so a resume never takes one for another."""
    db = next((FIXTURES / "hierarchical_wf_success").glob("*.stampede.db"))
    url = f"sqlite:///{db}"
    out = tmp_path / "rows.jsonl"
    progress = tmp_path / "rows.jsonl.progress.json"
    first, _ = _triage(url)
    _triage(url, "--out", str(out))
    runs = list(dict.fromkeys(json.loads(line)["run"] for line in first.splitlines()))
    assert len(runs) == 2
    assert sorted(_done(progress)) == sorted(f"{url}#{r}" for r in runs)
    _, err = _triage(url, "--out", str(out))
    assert "resuming: 2 run(s)" in err and out.read_text() == first
    # a progress file of an older flowsleuth keyed runs by their path alone: still honoured
    state = json.loads(progress.read_text())
    state["runs"] = {str(Path(url).resolve()): 0}
    progress.write_text(json.dumps(state))
    _, err = _triage(url, "--out", str(out))
    assert "resuming: 1 run(s)" in err and out.read_text() == first
