"""One structured narrate() through the openai backend against a real CPU vLLM server.

Uses ``$FLOWSLEUTH_VLLM_URL`` when set; else starts ``scripts/start_vllm.sh`` (needs the
``.venv-vllm`` that ``scripts/vllm_venv.sh`` creates, as ``.ci/run`` does; skipped when absent)
and stops it afterwards. Slow: minutes to start.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flowsleuth.agent.llm import LLMSettings, make_backend
from flowsleuth.agent.verdict import Narrative
from langchain_core.messages import HumanMessage, SystemMessage

ROOT = Path(__file__).resolve().parents[2]
PORT = os.environ.get("FLOWSLEUTH_VLLM_TEST_PORT", "8617")

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="session")
def vllm_url() -> Iterator[str]:
    if url := os.environ.get("FLOWSLEUTH_VLLM_URL"):
        yield url
        return
    venv = Path(os.environ.get("FLOWSLEUTH_VLLM_VENV", ROOT / ".venv-vllm"))
    if not (venv / ".installed").exists():
        pytest.skip(f"no vLLM venv at {venv}: run scripts/vllm_venv.sh once to create it")
    env = {**os.environ, "FLOWSLEUTH_VLLM_PORT": PORT}
    done = subprocess.run(
        [str(ROOT / "scripts" / "start_vllm.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"start_vllm.sh failed:\n{done.stderr[-2000:]}")
    try:
        yield done.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(ROOT / "scripts" / "stop_vllm.sh")], env=env, check=False)


def test_structured_narrate_through_vllm(vllm_url):
    backend = make_backend(LLMSettings(backend="openai", base_url=vllm_url, model="smollm2", max_tokens=96))
    assert backend is not None
    out = backend.narrate(
        [
            SystemMessage("You explain anomalies of workflow jobs. Use only the given numbers."),
            HumanMessage("Job j1 ran 3.1 times longer than its peers on host worker-3. Explain."),
        ],
        Narrative,
    )
    assert isinstance(out, Narrative)
    assert out.explanation.strip() or out.reasoning.strip()
    assert backend.usage.prompt_tokens > 10 and backend.usage.completion_tokens > 0
