"""``watch`` survives a bad appended row, deletion and rotation of its file."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from flowsleuth.workflows.sample import sample_run

from .conftest import CLI


def _read(proc: subprocess.Popen[str], n: int) -> list[dict[str, object]]:
    assert proc.stdout is not None
    return [json.loads(proc.stdout.readline()) for _ in range(n)]


def test_watch_reports_a_bad_row_and_survives_rotation(env, tmp_path: Path) -> None:
    lines = sample_run("1000-genome-run0084").read_text().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    cols = header.rstrip("\n").split(",")
    bad = rows[30].split(",")
    bad[0] = "bad_job"
    bad[cols.index("runtime")] = "fast"
    growing = tmp_path / "1000-genome-run0084.csv"
    growing.write_text(header + "".join(rows[:30]))
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "w") as err_fh:
        proc = subprocess.Popen(
            [*CLI, "watch", str(growing), "--interval", "0.1", "--idle-exit", "3"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err_fh,
            text=True,
        )
        try:
            events = _read(proc, 30)
            with open(growing, "a") as fh:
                fh.write(",".join(bad) + "".join(rows[30:60]))  # a bad row, then good ones
            events += _read(proc, 30)
            growing.unlink()  # deleted ...
            time.sleep(1.0)
            rotated = tmp_path / "new.csv"
            rotated.write_text(header + "".join(rows[:90]))
            rotated.rename(growing)  # ... and back, as a new file (rotation)
            events += _read(proc, 30)
            assert proc.wait(timeout=120) == 0
        finally:
            proc.kill()
    assert len({e["job_id"] for e in events}) == 90
    err = stderr.read_text().replace("\n", " ")
    assert "Traceback" not in err
    assert "skipped a bad row" in err and "non-numeric value 'fast'" in err
    assert err.count("skipped a bad row") == 1  # reported once, not at every poll
    assert "disappeared" in err and "replaced or truncated" in err
