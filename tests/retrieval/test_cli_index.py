from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

runner = CliRunner()
GENOME = ["1000-genome-run0009", "1000-genome-run0059", "1000-genome-run0084"]


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_build_stats_query_add_drop(tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    common = ["--index-dir", idx, "--embedder", "hashing"]
    paths = [str(sample_run(n)) for n in GENOME]
    code, out = _invoke("index", "build", *paths, *common)
    assert code == 0, out
    assert "indexed 3 run(s), 411 jobs, 411 new" in out

    code, out = _invoke("index", "stats", "--index-dir", idx, "--json")
    (col,) = json.loads(out)["collections"]
    assert col["runs"] == 3 and col["jobs"] == 411 and col["embedder"].startswith("hashing")

    query_run = str(sample_run("1000-genome-run0134"))
    code, out = _invoke("index", "query", query_run, "individuals_ID0000047", *common)
    assert code == 0, out
    assert "knn_vote [ok]" in out and "few-shot examples" in out

    code, out = _invoke("index", "add", paths[0], *common)
    assert code == 0 and "1 run(s), 137 jobs, 0 new" in out

    code, out = _invoke(
        "index", "drop", "--index-dir", idx, "--workflow", "1000-genome", "--run", GENOME[0], "-y"
    )
    assert code == 0 and "removed 137 job(s)" in out
    code, out = _invoke("index", "drop", "--index-dir", idx, "-y")
    assert code == 0 and "dropped 1 collection(s)" in out
    code, out = _invoke("index", "stats", "--index-dir", idx)
    assert code == 0 and "the index is empty" in out


def test_query_an_unindexed_workflow_is_honest(tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    common = ["--index-dir", idx, "--embedder", "hashing"]
    assert _invoke("index", "build", str(sample_run(GENOME[0])), *common)[0] == 0
    code, out = _invoke("index", "query", str(sample_run("montage-run0536")), "mDiffFit_ID0000100", *common)
    assert code == 0, out
    assert "knn_vote [no_data]: no neighbours" in out and "no few-shot examples" in out


def test_errors_are_one_line(tmp_path: Path) -> None:
    code, out = _invoke("index", "stats", "--index-dir", str(tmp_path / "none"))
    assert code == 1 and "error: no index at" in out and "Traceback" not in out
    code, out = _invoke("index", "drop", "--index-dir", str(tmp_path), "--run", "x", "-y")
    assert code == 1 and "--run needs --workflow" in out
    code, out = _invoke("index", "query", str(sample_run(GENOME[0])), "nope", "--index-dir", str(tmp_path))
    assert code == 1 and "no job 'nope'" in out


def test_cli_start_up_does_not_import_heavy_libraries() -> None:
    heavy = "('chromadb', 'sentence_transformers', 'torch')"
    code = f"import sys, cli.main; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
