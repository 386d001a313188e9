"""Peak memory of ``flowsleuth data info`` on hostile and huge input (hardening issue).

Protocol: each measurement runs ``flowsleuth data info PATH`` in a fresh child process and
reads that child's peak RSS (``os.wait4``'s ``ru_maxrss``). Inputs are generated from the
bundled sample runs (no ../shared needed):

* zip bomb: a ~1 MB zip holding one CSV member that inflates to 1 GiB of zeros.
  Target: refused in one line, peak RSS under 600 MB.
* big CSV: one run of ~474k jobs (~200 MB), the bundled runs' rows repeated with unique job ids.
  Target: peak RSS at most 3x the file size.

``--baseline-python`` also runs the big CSV through another interpreter (an older flowsleuth)
in the same run, for a before/after ratio. The zip bomb is never given to a baseline: the old
loader inflated it whole (8.5 GB).

Usage: nice .venv/bin/python -m bench.hardening_rss [--jobs 474000] [--baseline-python PY] [--smoke]
Writes bench/results/hardening_rss.{json,md}. --smoke: a 64 MiB bomb and 2,000 jobs, written
outside bench/results.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from flowsleuth.workflows.sample import sample_runs

from bench._common import machine, results_dir, write_results

CLI = "from flowsleuth.cli.main import app; app()"


def make_bomb(path: Path, mib: int = 1024) -> None:
    block = b"0" * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("normal/1000-genome-run0001.csv", "w", force_zip64=True) as fh,
    ):
        for _ in range(mib):
            fh.write(block)


def make_big_csv(path: Path, jobs: int) -> None:
    """One run of ``jobs`` rows: the 1000 Genome sample rows, repeated with unique job ids."""
    files = [f for f in sample_runs() if f.stem.startswith("1000-genome")]
    header = files[0].read_text().splitlines()[0]
    rows = [line for f in files for line in f.read_text().splitlines()[1:]]
    with open(path, "w") as fh:
        fh.write(header + "\n")
        for i in range(jobs):
            row = rows[i % len(rows)]
            job, rest = row.split(",", 1)
            fh.write(f"{job}_{i},{rest}\n")


def peak_rss(python: str, path: Path) -> dict[str, object]:
    """Run ``data info`` in a child; its peak RSS, wall time, exit code and stderr lines."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-c", CLI, "data", "info", "--json", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "FLOWSLEUTH_NO_PLUGINS": "1"},
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "wall_s": round(time.perf_counter() - t0, 2),
        "exit": proc.returncode,
        "stderr_lines": len(err.strip().splitlines()),
        "message": err.strip().splitlines()[-1][:140] if err.strip() else "",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=474_000, help="jobs in the big CSV")
    ap.add_argument("--baseline-python", help="also measure the big CSV with this interpreter")
    ap.add_argument("--smoke", action="store_true", help="tiny inputs: a check that the bench runs")
    args = ap.parse_args()
    if args.smoke:
        args.jobs = 2_000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bomb, big = Path(tmp) / "bomb.zip", Path(tmp) / "1000-genome-run9999.csv"
        make_bomb(bomb, 64 if args.smoke else 1024)
        make_big_csv(big, args.jobs)
        mb = {p: p.stat().st_size / 1e6 for p in (bomb, big)}
        cases = []
        if args.baseline_python:
            cases.append((f"big CSV ({args.jobs} jobs)", args.baseline_python, big, "baseline"))
        cases.append((f"zip bomb ({64 if args.smoke else 1024} MiB member)", sys.executable, bomb, "current"))
        cases.append((f"big CSV ({args.jobs} jobs)", sys.executable, big, "current"))
        for name, python, path, which in cases:
            r = peak_rss(python, path)
            rows.append(
                {
                    "input": name,
                    "code": which,
                    "file_mb": round(mb[path], 1),
                    **r,
                    "rss_over_file": round(float(r["peak_rss_mb"]) * 1.048576 / mb[path], 2),  # type: ignore[arg-type]
                }
            )
    meta = {
        **machine(),
        "protocol": "peak RSS (ru_maxrss of the child) of `flowsleuth data info --json PATH`",
        "targets": "zip bomb: refused in one line, < 600 MB; big CSV: <= 3x file size",
    }
    title = "Peak RSS of data info on hostile and huge input"
    write_results("hardening_rss", rows, meta, title, results_dir(args.smoke))


if __name__ == "__main__":
    main()
