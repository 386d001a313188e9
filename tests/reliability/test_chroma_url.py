"""``--chroma-url`` reaches a real ``chroma run`` server from ``why`` (not only from ``index``)."""

from __future__ import annotations

import json

import pytest
from flowsleuth.cli.main import app
from flowsleuth.workflows.sample import sample_run
from typer.testing import CliRunner

INDEXED = ["1000-genome-run0009", "1000-genome-run0134", "1000-genome-run0059"]


@pytest.mark.integration
@pytest.mark.parametrize("how", ["flag", "env"])
def test_why_gets_few_shot_examples_from_a_chroma_server(
    env, chroma_server: str, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    runs = [str(sample_run(r)) for r in INDEXED]
    built = runner.invoke(app, ["index", "build", "--chroma-url", chroma_server, *runs])
    assert built.exit_code == 0, built.output
    args = ["why", str(sample_run("1000-genome-run0084")), "individuals_ID0000047", "--json"]
    if how == "flag":
        args += ["--chroma-url", chroma_server]
    else:
        monkeypatch.setenv("FLOWSLEUTH_CHROMA_URL", chroma_server)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["examples"], result.stderr  # few-shot examples came from the server
    assert {e["run"] for e in verdict["examples"]} <= set(INDEXED)
    assert "note: index" not in result.stderr
