"""``--chroma-url`` reaches a real ``chroma run`` server from ``why`` (not only from ``index``)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

CHROMA = Path(sys.executable).parent / "chroma"
INDEXED = ["1000-genome-run0009", "1000-genome-run0134", "1000-genome-run0059"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} not installed")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(CHROMA), "run", "--path", str(tmp_path / "data"), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"chroma server exited with {proc.returncode}")
            try:
                httpx.get(f"{url}/api/v2/heartbeat", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("chroma server did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.integration
@pytest.mark.parametrize("how", ["flag", "env"])
def test_why_gets_few_shot_examples_from_a_chroma_server(
    env, chroma_url: str, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    runs = [str(sample_run(r)) for r in INDEXED]
    built = runner.invoke(app, ["index", "build", "--chroma-url", chroma_url, *runs])
    assert built.exit_code == 0, built.output
    args = ["why", str(sample_run("1000-genome-run0084")), "individuals_ID0000047", "--json"]
    if how == "flag":
        args += ["--chroma-url", chroma_url]
    else:
        monkeypatch.setenv("FLOWSLEUTH_CHROMA_URL", chroma_url)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["examples"], result.stderr  # few-shot examples came from the server
    assert {e["run"] for e in verdict["examples"]} <= set(INDEXED)
    assert "note: index" not in result.stderr
