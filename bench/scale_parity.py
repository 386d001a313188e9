"""Same output before and after a speed change: ``flowsleuth triage`` on a fixed mix of real runs,
with this checkout and with the code of git ref ``--before``, compared byte for byte.

Runs: ``--per-set`` CSVs spread over each Flow-Bench extra zip (eht_imaging: 12 jobs,
somospie: 60), the first run of each (anomaly folder, paper workflow) pair, and the Pegasus
submit directories of ``/work/shared/pegasus`` (the portable path). Each tree triages them in a
fresh process on a fresh home (pretrained models, no index, no LLM) in ``jsonl`` and in
``json`` (which also holds each run's summary: kind, class, culprits, notes).

Usage: nice .venv/bin/python -m bench.scale_parity --before main [--per-set 12]
Prints one line per input and format; exits 1 when any output differs. Writes nothing to
bench/results (a check, not a measurement).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from bench.scale import CLI, shadow_tree

SHARED = Path("/work/shared")
PARSED = SHARED / "flowbench" / "parsed"


def gather(per_set: int, into: Path) -> list[Path]:
    """A folder of CSVs (extra zips spread out, one run per anomaly folder and paper workflow)
    plus the Pegasus submit directories."""
    runs = into / "runs"
    runs.mkdir(parents=True)
    for name in ("eht_imaging.zip", "somospie.zip"):
        with zipfile.ZipFile(SHARED / "flowbench" / "extra" / name) as z:
            names = sorted(m for m in z.namelist() if m.endswith(".csv"))
            for m in names[:: max(len(names) // per_set, 1)][:per_set]:
                (runs / Path(m).name).write_bytes(z.read(m))
    for folder in sorted(p for p in PARSED.iterdir() if p.is_dir()):
        for wf in ("1000-genome", "montage", "predict-future-sales"):
            first = sorted(folder.glob(f"{wf}-run*.csv"))[:1]
            for f in first:
                (runs / f"{folder.name}-{f.name}").symlink_to(f)
    pegasus = sorted(p for p in (SHARED / "pegasus").iterdir() if p.is_dir())
    return [runs, *pegasus]


def triage(src: Path, fmt: str, home: Path, extra_env: dict[str, str]) -> bytes:
    env = {
        **os.environ,
        **extra_env,
        "FLOWSLEUTH_HOME": str(home),
        "FLOWSLEUTH_CONFIG": str(home / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "FLOWSLEUTH_BACKEND": "none",
    }
    cmd = [sys.executable, "-c", CLI, "triage", str(src), "-f", fmt, "--explain", "0"]
    proc = subprocess.run(cmd, env=env, capture_output=True, check=False, timeout=900)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"triage {src} failed ({proc.returncode}): {proc.stderr[-2000:].decode()}")
    return proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="git ref whose output is the reference")
    ap.add_argument("--per-set", type=int, default=12, help="runs from each extra zip")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flowsleuth-parity-"))
    inputs = gather(args.per_set, work)
    path, shadow = shadow_tree(args.before, work)
    repo = Path(__file__).resolve().parent.parent
    differ = 0
    try:
        for src in inputs:
            for fmt in ("jsonl", "json"):
                before = triage(src, fmt, work / "home-before", {"PYTHONPATH": str(path)})
                after = triage(src, fmt, work / "home-after", {})
                same = before == after and len(after) > 0
                differ += not same
                print(f"{'same' if same else 'DIFFERENT'}  {fmt:5}  {len(after):>9} bytes  {src}", flush=True)
                if not same:
                    (work / f"{src.name}.{fmt}.before").write_bytes(before)
                    (work / f"{src.name}.{fmt}.after").write_bytes(after)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(shadow)], cwd=repo, check=False)
    print(f"{differ} output(s) differ; outputs kept in {work}" if differ else "all outputs identical")
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
