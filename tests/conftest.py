"""Fixtures every test area shares: the bundled sample, and the Flow-Bench checkout when present."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from flowsleuth.workflows.flowbench import flowbench_root
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import sample_run, sample_runs

HDD_RUN = "1000-genome-run0084"
CPU_RUN = "1000-genome-run0134"
NORMAL_RUN = "1000-genome-run0009"


@pytest.fixture(scope="session")
def sample_paths() -> list[Path]:
    return sample_runs()


@pytest.fixture(scope="session")
def hdd_run() -> Run:
    return load_run(sample_run(HDD_RUN))


@pytest.fixture(scope="session")
def cpu_run() -> Run:
    return load_run(sample_run(CPU_RUN))


@pytest.fixture(scope="session")
def normal_run() -> Run:
    return load_run(sample_run(NORMAL_RUN))


@pytest.fixture(scope="session")
def small_runs() -> list[Run]:
    """Small runs cut from the bundled sample runs: the same host names recur across runs (so
    a group that mixed runs would show), with NaN, a one-host run and a one-job run."""
    import dataclasses

    import numpy as np

    out: list[Run] = []
    rng = np.random.default_rng(7)
    for path in sample_runs()[:4]:
        run = load_run(path)
        for k, (a, b) in enumerate(((0, 12), (12, 40), (40, 41), (41, 60))):
            frame = run.frame.iloc[a:b].copy()
            if k == 1:
                frame.loc[frame.index[::3], "runtime"] = np.nan
                frame["kickstart_hostname"] = rng.choice(["h1", "h2", "h3"], len(frame))
            if k == 3:
                frame["kickstart_hostname"] = "solo"
            out.append(dataclasses.replace(run, frame=frame, run_id=f"{run.run_id}-{k}"))
    return out


@pytest.fixture(scope="session")
def flowbench() -> Path:
    """The full Flow-Bench checkout; tests that need it skip where it is absent."""
    root = flowbench_root()
    if root is None:
        pytest.skip("../shared/flowbench not present")
    return root


@pytest.fixture
def run_csv_text() -> str:
    """A small valid run CSV (three jobs of the bundled hdd run) to mangle in tests."""
    lines = sample_run(HDD_RUN).read_text().splitlines()
    return "\n".join(lines[:4]) + "\n"


@pytest.fixture(scope="session")
def tiny_adapter_set(tmp_path_factory: pytest.TempPathFactory, hdd_run: Run, normal_run: Run) -> Path:
    """A saved SFT adapter set with one tiny ``general`` LoRA adapter (compact inputs), trained in
    seconds on a few dozen jobs of two bundled runs: stands in for the shipped adapters."""
    from flowsleuth.tools.classifier.sft import SFTScorer
    from flowsleuth.tools.classifier.sft_adapter import LoraSpec
    from flowsleuth.tools.classifier.sft_set import AdapterSet, SetIndex
    from flowsleuth.tools.classifier.sft_train import TrainConfig

    anomalous = [j for j, v in hdd_run.labels.items() if v != "None"][:12]  # type: ignore[union-attr]
    normal = normal_run.job_ids[:12]
    train = {(hdd_run.run_id, j) for j in anomalous[:8]} | {(normal_run.run_id, j) for j in normal[:8]}
    val = {(hdd_run.run_id, j) for j in anomalous[8:]} | {(normal_run.run_id, j) for j in normal[8:]}
    cfg = TrainConfig(epochs=1, batch_size=8, lr=5e-4, eval_every=2, patience=1, progress=False)
    scorer = SFTScorer.fit(
        [hdd_run, normal_run],
        [hdd_run, normal_run],
        train_keys=train,
        val_keys=val,
        template="compact",
        config=cfg,
        adapter=LoraSpec(r=2, alpha=4),
    )
    out = tmp_path_factory.mktemp("adapters")
    return AdapterSet({"general": scorer}, SetIndex(workflows={}, fallback="general")).save(out)


# A small prepared home (models + index of four bundled 1000 Genome runs), built once per
# session and shared by the CLI and reliability tests; TARGET (hdd_5) is held out of it.
HOME_TRAIN = ["1000-genome-run0009", "1000-genome-run0059", "1000-genome-run0134", "1000-genome-run0209"]
TARGET = HDD_RUN


@pytest.fixture(scope="session")
def prepared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flowsleuth.cli.app.prepare import prepare_home

    home = tmp_path_factory.mktemp("home")
    prepare_home(home, [load_run(sample_run(r)) for r in HOME_TRAIN], key="cli-tests")
    return home


@pytest.fixture
def use_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[Path], dict[str, str]]:
    """Point every command at a home, with no config file, no plugins and no LLM; returns the
    variables it set."""

    def point(home: Path) -> dict[str, str]:
        values = {
            "FLOWSLEUTH_HOME": str(home),
            "FLOWSLEUTH_CONFIG": str(tmp_path / "absent.toml"),
            "FLOWSLEUTH_NO_PLUGINS": "1",
            "FLOWSLEUTH_BACKEND": "none",
        }
        for k, v in values.items():
            monkeypatch.setenv(k, v)
        return values

    return point


@pytest.fixture
def env(prepared_home: Path, use_home: Callable[[Path], dict[str, str]]) -> dict[str, str]:
    """Every command on the prepared home. Returns the whole environment (for subprocesses)."""
    return {**os.environ, **use_home(prepared_home)}


@pytest.fixture
def target_csv() -> Path:
    return sample_run(TARGET)


# A real `chroma run` server on a free loopback port (integration tests).
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
