"""A killed triage resumes without redoing or losing runs; watch follows a growing run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
from flowsleuth.agent.triage_models import TriageRow
from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

RUNS = ["1000-genome-run0084", "1000-genome-run0010", "predict-future-sales-run0083"]


def test_killed_triage_resumes(env, tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    for r in RUNS:
        shutil.copy(sample_run(r), runs_dir)
    out = tmp_path / "rows.jsonl"
    progress = tmp_path / "rows.jsonl.progress.json"
    cmd = [
        sys.executable,
        "-c",
        "from cli.main import app; app()",
        "triage",
        str(runs_dir),
        "-f",
        "jsonl",
        "--out",
        str(out),
        "--explain",
        "0",
    ]
    # One run per batch (a batch's runs are written together), so the kill can land between runs
    one_run_batches = {"FLOWSLEUTH_BATCH_JOBS": "1"}
    proc = subprocess.Popen(
        cmd, env={**os.environ, **env, **one_run_batches}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if progress.is_file() and json.loads(progress.read_text())["runs"]:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = json.loads(progress.read_text())["runs"]
    assert 1 <= len(done_before) < len(RUNS), "kill came too late to test resuming"
    first_bytes = out.read_bytes()
    with open(out, "ab") as fh:  # what a kill mid-write leaves behind
        fh.write(b'{"workflow": "half a ro')

    result = CliRunner().invoke(
        app, ["triage", str(runs_dir), "-f", "jsonl", "--out", str(out), "--explain", "0"]
    )
    assert result.exit_code == 0, result.output
    assert f"resuming: {len(done_before)} run(s)" in result.stderr
    text = out.read_bytes()
    assert text.startswith(first_bytes)  # finished runs were kept, not redone
    rows = [TriageRow.model_validate_json(line) for line in text.decode().splitlines()]
    sizes = {r: len(pd.read_csv(sample_run(r))) for r in RUNS}
    assert len(rows) == sum(sizes.values())
    assert len({(r.run, r.job_id) for r in rows}) == len(rows)


def test_watch_emits_each_new_job_once(env, tmp_path: Path) -> None:
    lines = sample_run("1000-genome-run0084").read_text().splitlines(keepends=True)
    growing = tmp_path / "1000-genome-run0084.csv"
    growing.write_text(lines[0])

    def writer() -> None:
        for start in range(1, len(lines), 40):
            time.sleep(0.4)
            with open(growing, "a") as fh:
                chunk = "".join(lines[start : start + 40])
                fh.write(chunk[:-5])  # a half-written row first ...
                fh.flush()
                time.sleep(0.1)
                fh.write(chunk[-5:])  # ... then the rest

    thread = threading.Thread(target=writer)
    thread.start()
    result = CliRunner().invoke(app, ["watch", str(growing), "--interval", "0.1", "--idle-exit", "6"])
    thread.join()
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == len(lines) - 1
    assert len({e["job_id"] for e in events}) == len(events)
    assert all(e["latency_ms"] > 0 and 0 <= e["score"] <= 1 for e in events)
