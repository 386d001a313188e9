"""Every benchmark (and the release build) starts: ``--help`` parses, imports resolve, and the
cheap ones run a ``--smoke`` pass on the bundled sample.

They run in-process as ``python -m <module>`` would (``runpy`` with the repository root on the
path, which ``-m`` gives), so the imports are paid once for the whole file.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _entry_points() -> list[str]:
    """Modules under bench/ and scripts/ meant to run with ``-m``: a ``__main__`` guard, or a
    package's ``__main__.py``. Found, not listed, so a new benchmark is covered too."""
    found = []
    for folder in ("bench", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            if path.name == "__main__.py":
                found.append(".".join(rel.parts[:-1]))
            elif 'if __name__ == "__main__"' in path.read_text():
                found.append(".".join(rel.parts))
    return found


ENTRY_POINTS = _entry_points()


def _run(module: str, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int | str | None:
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", [module, *argv])
    with pytest.raises(SystemExit) as stop:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        raise SystemExit(0)
    return stop.value.code


def test_every_benchmark_is_found() -> None:
    assert {"bench.load", "bench.fusion", "bench.sft", "bench.sft.export"} <= set(ENTRY_POINTS)
    assert "scripts.build_models" in ENTRY_POINTS
    assert not any(m.startswith("bench.sft_") for m in ENTRY_POINTS)  # one package, bench/sft/


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_help(module: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(module, ["--help"], monkeypatch) == 0
    assert "usage:" in capsys.readouterr().out


def test_no_bench_edits_sys_path() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("bench", "scripts")
        for p in (ROOT / folder).rglob("*.py")
        if "sys.path.insert" in p.read_text() or "sys.path.append" in p.read_text()
    ]
    assert offenders == []


def test_load_smoke_on_the_bundled_sample(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWSLEUTH_BENCH_RESULTS", str(tmp_path))
    assert _run("bench.load", ["--smoke", "--repeat", "1"], monkeypatch) == 0
    doc = json.loads((tmp_path / "load.json").read_text())
    assert doc["meta"]["command"] == "python -m bench.load --smoke --repeat 1"
    assert doc["rows"][0]["what"].startswith("load all 12 runs")
    assert all(r["seconds"] > 0 for r in doc["rows"])


def test_smoke_never_writes_bench_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from bench._common import RESULTS, results_dir

    monkeypatch.delenv("FLOWSLEUTH_BENCH_RESULTS", raising=False)
    assert results_dir() == RESULTS
    assert results_dir(smoke=True) != RESULTS


def test_gpu_report_reads_json_rows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWSLEUTH_BENCH_RESULTS", str(tmp_path))
    assert _run("bench.sft.gpu_report", [], monkeypatch) == 0
    doc = json.loads((tmp_path / "sft_gpu.json").read_text())
    assert {r["stage"] for r in doc["rows"]} == {"h100_genome", "h100_genome_run", "h100_montage_pfs"}
    assert len(doc["rows"]) == 7 and all(0 <= r["f1"] <= 1 for r in doc["rows"])
    assert (tmp_path / "sft.md").is_file()


@pytest.mark.slow
def test_sft_smoke_on_the_bundled_sample(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWSLEUTH_BENCH_RESULTS", str(tmp_path))
    rows = tmp_path / "rows.jsonl"
    argv = ["--part", "sft", "--smoke", "--device", "cpu", "--rows-jsonl", str(rows)]
    assert _run("bench.sft", argv, monkeypatch) == 0
    (row,) = [json.loads(line) for line in rows.read_text().splitlines()]
    assert (row["split"], row["scorer"], row["train_rows"], row["n"]) == ("smoke", "sft-paper", 48, 32)
    assert 0 <= row["f1"] <= 1
    assert json.loads((tmp_path / "sft_sft.json").read_text())["meta"]["argv"] == argv
    assert "sft-paper" in (tmp_path / "sft.md").read_text()


@pytest.mark.shared
@pytest.mark.slow
def test_build_models_smoke(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from flowsleuth.workflows.flowbench import flowbench_root

    if flowbench_root() is None:
        pytest.skip("needs the Flow-Bench checkout")
    out = tmp_path / "pretrained"
    assert _run("scripts.build_models", ["--smoke", "--out", str(out)], monkeypatch) == 0
    shipped = {"tree", "diagnosis", "baseline.json", "fusion.json"}
    assert {p.name for p in (out / "models").iterdir()} >= shipped
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["command"].startswith("python -m scripts.build_models --smoke")
    assert not set(prov["test_runs"]) & set(prov["train_runs"])
    assert (out / "pretrained.md").is_file()
