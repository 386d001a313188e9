"""Shared bits of the benchmark scripts: timing, medians, result files, rich tables, and the
command that reproduces a result."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"


def isolated_core(prefix: str) -> Path:
    """Pin this process to one core and point flowsleuth at a fresh home (no config, no
    plugins) in a new temp folder, which is returned: a per-run cost measured alone."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        FLOWSLEUTH_HOME=str(work / "home"),
        FLOWSLEUTH_CONFIG=str(work / "absent.toml"),
        FLOWSLEUTH_NO_PLUGINS="1",
    )
    return work


def results_dir(smoke: bool = False) -> Path:
    """Where results go: ``$FLOWSLEUTH_BENCH_RESULTS`` if set, else bench/results; a ``--smoke``
    run never writes there (its numbers mean nothing), so it falls back to a temp folder."""
    if env := os.environ.get("FLOWSLEUTH_BENCH_RESULTS"):
        return Path(env)
    return Path(tempfile.gettempdir()) / "flowsleuth-bench-smoke" if smoke else RESULTS


def command() -> str:
    """The command line that reproduces this run (benchmarks run as ``python -m bench.<name>``)."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    name = f"-m {spec.name.removesuffix('.__main__')}" if spec else sys.argv[0]
    return " ".join(["python", name, *sys.argv[1:]])


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, list[float]]:
    """Run ``fn`` ``repeat`` times; return the last result and every wall time in seconds."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_results(
    name: str, rows: list[dict[str, Any]], meta: dict[str, Any], title: str, out: Path | None = None
) -> None:
    """Print a rich table and write ``<out or results_dir()>/<name>.json`` and ``.md`` (with the
    command)."""
    meta = {"command": command(), **meta}
    out = out or results_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    cols = list(dict.fromkeys(k for r in rows for k in r))  # union, in first-seen order
    md = [f"# {title}", "", *(f"- {k}: {v}" for k, v in meta.items()), ""]
    md += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in rows]
    (out / f"{name}.md").write_text("\n".join(md) + "\n")
    table = Table(title=title)
    for c in cols:
        table.add_column(c)
    for r in rows:
        table.add_row(*(_fmt(r.get(c)) for c in cols))
    Console().print(table)


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)
