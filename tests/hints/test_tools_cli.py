"""``flowsleuth tools list``."""

from __future__ import annotations

import json

from flowsleuth.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()


def test_tools_list_json_shows_name_source_status_description() -> None:
    result = runner.invoke(app, ["tools", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)["tools"]}
    assert rows["host_peers"]["source"] == "builtin"
    assert rows["host_peers"]["status"] == "ready"
    assert rows["dag_neighbours"]["description"].endswith("?")
    assert rows["run_diagnosis"]["kind"] == "diagnosis"


def test_tools_list_table() -> None:
    result = runner.invoke(app, ["tools", "list", "--no-plugins"])
    assert result.exit_code == 0, result.output
    assert "resource_signature" in result.output and "builtin" in result.output
