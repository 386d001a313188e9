"""Against a real ``chroma run`` server on a free local port (marker: integration)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flowsleuth.retrieval.embedder import HashingEmbedder
from flowsleuth.retrieval.fewshot import select_few_shot
from flowsleuth.retrieval.index import open_index
from flowsleuth.retrieval.knn import INDEX, knn_vote
from flowsleuth.workflows.contract import Services, Subject, ToolStatus
from flowsleuth.workflows.models import Run

CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
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
def test_index_and_query_through_a_server(chroma_server: str, genome_runs: list[Run], hdd_run: Run) -> None:
    index = open_index(chroma_url=chroma_server, embedder=HashingEmbedder(dim=64))
    report = index.add_runs(genome_runs)
    assert report.added == sum(len(r) for r in genome_runs)
    assert index.add_runs(genome_runs[:1]).added == 0
    (col,) = index.stats().collections
    assert col.runs == 6 and index.location == chroma_server

    subject = Subject(hdd_run, hdd_run.job_ids[5], services=Services({INDEX: index}))
    result = knn_vote(subject)
    assert result.status is ToolStatus.OK
    assert all(n["run"] != hdd_run.run_id for n in result.data["neighbours"])
    shots = select_few_shot(index, subject, k=4)
    assert {s.anomalous for s in shots} == {True, False}

    assert index.remove_run(hdd_run.workflow, hdd_run.run_id) == len(hdd_run)
    assert index.drop(all_templates=True)
