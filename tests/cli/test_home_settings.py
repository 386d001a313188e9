"""One ``Settings`` for every command: ``index`` writes where ``why`` reads, and a Chroma server
URL reaches the server from ``why`` and ``triage`` alike."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from flowsleuth.cli.app.settings import load_settings
from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

runner = CliRunner()
JOB = "individuals_ID0000047"


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty home via $FLOWSLEUTH_HOME only; no config file, no plugins, no LLM."""
    home = tmp_path / "home"
    for key in ("FLOWSLEUTH_INDEX_DIR", "FLOWSLEUTH_CHROMA_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FLOWSLEUTH_HOME", str(home))
    monkeypatch.setenv("FLOWSLEUTH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("FLOWSLEUTH_NO_PLUGINS", "1")
    monkeypatch.setenv("FLOWSLEUTH_BACKEND", "none")
    return home


def test_index_build_then_why_uses_that_index(bare_env: Path, target_csv: Path) -> None:
    before = runner.invoke(app, ["why", str(target_csv), JOB, "--json"])
    assert before.exit_code == 0, before.output
    assert "no job index" in before.stderr
    built = runner.invoke(app, ["index", "build", str(sample_run("1000-genome-run0009"))])
    assert built.exit_code == 0, built.output
    assert (bare_env / "index").is_dir()
    after = runner.invoke(app, ["why", str(target_csv), JOB, "--json"])
    assert after.exit_code == 0, after.output
    assert "no job index" not in after.stderr
    v = json.loads(after.stdout)
    assert "knn_vote" in {e["tool"] for e in v["evidence"]}
    assert v["examples"] and {e["run"] for e in v["examples"]} == {"1000-genome-run0009"}


def test_precedence_flag_env_file_default(bare_env: Path, tmp_path: Path, monkeypatch) -> None:
    assert load_settings().index_path == bare_env / "index"  # default: <home>/index
    config = tmp_path / "config.toml"
    config.write_text(f'chroma_url = "http://file:1"\nindex_dir = "{tmp_path / "file-idx"}"\n')
    monkeypatch.setenv("FLOWSLEUTH_CONFIG", str(config))
    assert load_settings().chroma_url == "http://file:1"
    assert load_settings().index_path == tmp_path / "file-idx"
    monkeypatch.setenv("FLOWSLEUTH_CHROMA_URL", "http://env:2")
    assert load_settings().chroma_url == "http://env:2"
    assert load_settings(chroma_url="http://flag:3").chroma_url == "http://flag:3"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", ["why", "triage"])
def test_chroma_url_reaches_for_the_server(bare_env: Path, target_csv: Path, command: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    if command == "why":
        args = [str(target_csv), JOB, "--json"]
    else:
        args = [str(target_csv), "-f", "jsonl", "--explain", "0"]
    result = runner.invoke(app, [command, *args, "--chroma-url", url])
    assert result.exit_code == 0, result.output
    # The server was tried (and reported unreachable); not the 'directory or URL' mix-up.
    assert "cannot reach the Chroma server" in result.stderr
    assert "not both" not in result.stderr
