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


def test_tools_list_shows_every_tool_the_agent_binds() -> None:
    from flowsleuth.tools.registry import default_registry

    result = runner.invoke(app, ["tools", "list", "--json"])
    listed = {r["name"]: r for r in json.loads(result.output)["tools"]}
    assert listed["knn_vote"]["kind"] == "retrieval" and listed["knn_vote"]["source"] == "builtin"
    # The agent binds exactly the registry's tools: the listing is that registry.
    assert {t.name for t in default_registry().tools()} == set(listed)
