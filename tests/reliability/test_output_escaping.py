"""Job fields are data: never formulas, terminal escapes, mathtext or rich markup in our output."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from flowsleuth.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()
ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x9b31m\x08"


def test_csv_cells_that_start_a_formula_are_neutralised(env, variant, tmp_path: Path) -> None:
    formulas = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"]

    def edit(df) -> None:  # type: ignore[no-untyped-def]
        for i, f in enumerate(formulas):
            df.loc[i * 10 : i * 10 + 9, "kickstart_hostname"] = f
        df.loc[0:40, "kickstart_transformations"] = "=cmd|' /C calc'!A0"
        df.iloc[50, 0] = "=job"

    out = tmp_path / "rows.csv"
    args = ["triage", str(variant(edit)), "-f", "csv", "--out", str(out), "--explain", "0"]
    args += ["--threshold", "0"]
    assert runner.invoke(app, args).exit_code == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    cells = [v for r in rows for k, v in r.items() if k in ("job_id", "host", "transformation", "culprit")]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert '\'=HYPERLINK("http://x")' in cells and "'=job" in cells and "'-2+3" in cells


def test_control_characters_never_reach_the_terminal(env, variant) -> None:
    def edit(df) -> None:  # type: ignore[no-untyped-def]
        df.loc[:, "kickstart_hostname"] = "evil" + ESCAPES
        df.loc[:, "kickstart_transformations"] = "t" + ESCAPES
        df.iloc[0, 0] = "job" + ESCAPES

    path = variant(edit)
    table = runner.invoke(app, ["triage", str(path), "-f", "table", "--explain", "0", "--threshold", "0"])
    assert table.exit_code == 0, table.output
    jsonl = runner.invoke(app, ["triage", str(path), "-f", "jsonl", "--explain", "0"])
    why = runner.invoke(app, ["why", str(path), "job" + ESCAPES])
    for result in (table, jsonl, why):
        for ch in ("\x1b", "\x07", "\x9b", "\x08"):
            assert ch not in result.output
    assert "evil\\x1b[2J" in table.stdout and "\\x1b" in why.stdout
    assert json.loads(jsonl.stdout.splitlines()[0])["host"] == "evil" + ESCAPES  # data kept exactly


def test_dollar_signs_do_not_lose_the_report(env, variant, tmp_path: Path) -> None:
    def edit(df) -> None:  # type: ignore[no-untyped-def]
        df.loc[:, "kickstart_hostname"] = "host$_{x}^$"
        df.loc[:, "kickstart_transformations"] = "$\\frac{a}{$"

    report = tmp_path / "r.html"
    args = ["triage", str(variant(edit)), "-f", "jsonl", "--explain", "0", "--report", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 137
    assert report.read_text().count('<img class="plot"') == 3


def test_rich_markup_in_data_info_is_shown_literally(variant, tmp_path: Path) -> None:
    def edit(df) -> None:  # type: ignore[no-untyped-def]
        df.loc[:, "kickstart_transformations"] = "x[/]y[bold red]z"

    folder = tmp_path / "[/]weird[red]"
    path = variant(edit, folder=folder.name)
    result = runner.invoke(app, ["data", "info", str(path)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "x[/]y[bold red]z 137" in result.stdout  # literally, not a MarkupError traceback
