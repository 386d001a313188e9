"""``triage --workers N`` and ``--scheduler``: the same bytes as the serial triage, in input
order; a killed triage and a killed worker lose and duplicate nothing."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from flowsleuth.agent.triage_models import TriageRow
from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

RUNS = [
    "1000-genome-run0084",
    "1000-genome-run0010",
    "predict-future-sales-run0083",
    "1000-genome-run0059",
    "1000-genome-run0134",
]
CLI = [sys.executable, "-c", "from flowsleuth.cli.main import app; app()"]
runner = CliRunner()
# One run per worker task: a kill then lands between runs (tasks batch consecutive runs).
ONE_RUN_TASKS = {"FLOWSLEUTH_BATCH_JOBS": "1"}


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    d = tmp_path / "runs"
    d.mkdir()
    for r in RUNS:
        shutil.copy(sample_run(r), d)
    return d


def _triage(*args: str) -> str:
    result = runner.invoke(app, ["triage", *args, "-f", "jsonl", "--explain", "0"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _rows(text: str) -> list[TriageRow]:
    return [TriageRow.model_validate_json(line) for line in text.splitlines()]


def _expected_rows() -> int:
    return sum(len(pd.read_csv(sample_run(r))) for r in RUNS)


def test_two_workers_write_the_serial_bytes(env, runs_dir: Path, tmp_path: Path) -> None:
    serial = _triage(str(runs_dir), "--explain", "2")  # the last --explain wins
    rows = _rows(serial)
    assert len(rows) == _expected_rows()
    # --explain runs in the parent (backend none here: the rows must still be the serial ones)
    out = tmp_path / "rows.jsonl"
    _triage(str(runs_dir), "--workers", "2", "--out", str(out), "--explain", "2")
    assert out.read_text() == serial  # the resumable --out, written by the parent alone


@pytest.fixture
def small_runs_dir(tmp_path: Path) -> Path:
    """Twenty small runs (12 to 30 jobs) cut from the samples: batched in every mode."""
    d = tmp_path / "small"
    d.mkdir()
    for i, name in enumerate(RUNS[:4]):
        header, *lines = sample_run(name).read_text().splitlines(keepends=True)
        workflow = name.split("-run")[0]
        for k, (a, b) in enumerate(((0, 12), (12, 42), (42, 60), (60, 80), (80, 92))):
            (d / f"{workflow}-run9{i}{k}0.csv").write_text(header + "".join(lines[a:b]))
    return d


def test_small_runs_in_batches_write_the_serial_bytes(env, small_runs_dir: Path, tmp_path: Path) -> None:
    """Workers and a cluster score small runs in batches too: the same bytes as serial."""
    distributed = pytest.importorskip("distributed")
    serial = _triage(str(small_runs_dir))
    assert len(_rows(serial)) == 4 * 92
    assert _triage(str(small_runs_dir), "--workers", "2") == serial
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        assert _triage(str(small_runs_dir), "--scheduler", cluster.scheduler_address) == serial


def test_a_local_dask_cluster_writes_the_serial_bytes(env, runs_dir: Path, monkeypatch) -> None:
    distributed = pytest.importorskip("distributed")
    serial = _triage(str(runs_dir))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        assert _triage(str(runs_dir), "--scheduler", cluster.scheduler_address) == serial
        monkeypatch.setenv("FLOWSLEUTH_DASK_SCHEDULER", cluster.scheduler_address)
        assert _triage(str(runs_dir)) == serial  # the same through the one Settings


def test_on_a_cluster_models_load_once_per_worker_and_a_failed_run_is_reported(
    env, runs_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """Workers load the toolkit once each (the plugin), not per run; a run whose scoring raises
    on a worker is reported and skipped like any bad run, and the others are written."""
    distributed = pytest.importorskip("distributed")
    from flowsleuth.agent import triage as triage_mod
    from flowsleuth.cli.app import cluster as cluster_mod

    serial = _rows(_triage(str(runs_dir)))
    loads = tmp_path / "loads"  # a file: the plugin reaches the workers as a (cloud)pickled copy
    real_load, real_triage = cluster_mod.load_worker_kit, triage_mod.triage_run

    def counted(*a, **k):  # type: ignore[no-untyped-def]
        with loads.open("a") as f:
            f.write("x")
        return real_load(*a, **k)

    def broken(deps, *a, **k):  # type: ignore[no-untyped-def]
        if deps.subject.run.run_id == "1000-genome-run0059":
            raise RuntimeError("boom\nsecond line")
        return real_triage(deps, *a, **k)

    monkeypatch.setattr(cluster_mod, "load_worker_kit", counted)
    monkeypatch.setattr(triage_mod, "triage_run", broken)  # in-process workers see it
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        result = runner.invoke(
            app,
            [
                "triage",
                str(runs_dir),
                "-f",
                "jsonl",
                "--explain",
                "0",
                "--scheduler",
                cluster.scheduler_address,
            ],
        )
    assert result.exit_code == 1, result.output  # a skipped run, as for a bad file
    assert "scoring failed in a worker (RuntimeError: boom)" in result.stderr
    assert "1 run(s) skipped" in result.stderr
    assert _rows(result.stdout) == [r for r in serial if r.run != "1000-genome-run0059"]
    assert loads.read_text() == "xx"  # one toolkit per worker (2), not one per run (5)


def test_bad_worker_counts_and_both_flags_are_one_line(env, runs_dir: Path) -> None:
    for args in (["--workers", "0"], ["--workers", "many"], ["--workers", "2", "--scheduler", "tcp://x:1"]):
        result = runner.invoke(app, ["triage", str(runs_dir), "-f", "jsonl", "--explain", "0", *args])
        assert result.exit_code == 1, args
        assert "Traceback" not in result.output and "error:" in result.stderr


def _wait_for(cond, proc: subprocess.Popen[bytes], what: str, limit: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"never saw {what} (exit {proc.poll()})")


def _done_runs(progress: Path) -> dict[str, int]:
    try:
        return json.loads(progress.read_text())["runs"]
    except (OSError, ValueError):
        return {}


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


@pytest.mark.slow
def test_sigkill_with_workers_then_resume_loses_and_duplicates_nothing(
    env, runs_dir: Path, tmp_path: Path
) -> None:
    serial = _triage(str(runs_dir))
    out = tmp_path / "rows.jsonl"
    progress = tmp_path / "rows.jsonl.progress.json"
    cmd = [*CLI, "triage", str(runs_dir), "-f", "jsonl", "--out", str(out), "--explain", "0", "-w", "2"]
    proc = subprocess.Popen(
        cmd, env={**os.environ, **env, **ONE_RUN_TASKS}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _wait_for(lambda: len(_done_runs(progress)) >= 1, proc, "a finished run")
    kids = _children(proc.pid) + _workers(proc.pid)
    proc.send_signal(signal.SIGKILL)  # the parent, the one writer, dies mid-triage
    proc.wait()
    for kid in kids:  # orphaned workers exit once their parent's pipe closes; do not wait for that
        with contextlib.suppress(ProcessLookupError):
            os.kill(kid, signal.SIGKILL)
    before = _done_runs(progress)
    assert 1 <= len(before) < len(RUNS), "kill came too late to test resuming"
    result = runner.invoke(
        app, ["triage", str(runs_dir), "-f", "jsonl", "--out", str(out), "--explain", "0", "-w", "2"]
    )
    assert result.exit_code == 0, result.output
    assert f"resuming: {len(before)} run(s)" in result.stderr
    assert out.read_text() == serial  # nothing lost, nothing twice, still in input order


def _workers(pid: int) -> list[int]:
    """The pool's worker processes: the children of the forkserver the triage started."""
    servers = [k for k in _children(pid) if b"forkserver" in Path(f"/proc/{k}/cmdline").read_bytes()]
    return [w for s in servers for w in _children(s)]


def _triple(runs_dir: Path) -> None:
    """Two more copies of each run: enough runs that a kill lands while runs are in flight."""
    for copy in range(2):
        for f in list(runs_dir.glob("*.csv"))[: len(RUNS)]:
            shutil.copy(f, runs_dir / f"copy{copy}-{f.name}")


@pytest.mark.slow
def test_a_worker_killed_mid_triage_is_retried(env, runs_dir: Path, tmp_path: Path) -> None:
    _triple(runs_dir)
    serial = _triage(str(runs_dir))
    out = tmp_path / "rows.jsonl"
    progress = tmp_path / "rows.jsonl.progress.json"
    cmd = [*CLI, "triage", str(runs_dir), "-f", "jsonl", "--out", str(out), "--explain", "0", "-w", "2"]
    proc = subprocess.Popen(
        cmd, env={**os.environ, **env, **ONE_RUN_TASKS}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _wait_for(lambda: len(_done_runs(progress)) >= 1, proc, "a finished run")
    os.kill(_workers(proc.pid)[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert "a worker died" in err.decode(), "kill came too late to test a retry"
    assert out.read_text() == serial  # the runs it held were scored again, once


@pytest.mark.slow
def test_a_dask_worker_killed_mid_triage_loses_and_duplicates_nothing(
    env, runs_dir: Path, tmp_path: Path
) -> None:
    """The nanny restarts a SIGKILLed worker (the plugin loads its models again) and the
    scheduler reschedules the runs it held: the output is still the serial one, once each."""
    distributed = pytest.importorskip("distributed")
    _triple(runs_dir)
    serial = _triage(str(runs_dir))
    out = tmp_path / "rows.jsonl"
    progress = tmp_path / "rows.jsonl.progress.json"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        cmd = [*CLI, "triage", str(runs_dir), "-f", "jsonl", "--out", str(out), "--explain", "0"]
        cmd += ["--scheduler", cluster.scheduler_address]
        proc = subprocess.Popen(
            cmd, env={**os.environ, **env, **ONE_RUN_TASKS}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _wait_for(lambda: len(_done_runs(progress)) >= 1, proc, "a finished run")
        busy = [w for w, n in client.processing().items() if n]
        assert busy, "kill came too late: no run in flight"
        os.kill(client.run(os.getpid, workers=busy[:1])[busy[0]], signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert out.read_text() == serial  # the runs it held were scored again, once
