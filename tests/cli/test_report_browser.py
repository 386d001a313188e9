"""The HTML report renders in headless Chromium with its plots (skipped where Chromium is absent)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from flowsleuth.cli.main import app
from typer.testing import CliRunner

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)")
def test_report_renders_with_plots(env, target_csv: Path, tmp_path: Path) -> None:
    from PIL import Image

    report = tmp_path / "report.html"
    result = CliRunner().invoke(
        app,
        [
            "triage",
            str(target_csv),
            "-f",
            "jsonl",
            "--explain",
            "0",
            "--threshold",
            "0.2",
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    profile = tmp_path / "profile"
    base = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1200,2400"]
    dom = subprocess.run(
        [*base, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert dom.count('class="plot"') == 3
    assert "flowsleuth triage report" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*base, f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120, check=True
    )
    import numpy as np

    image = np.asarray(Image.open(shot).convert("L"))
    dark = int((image < 200).sum())
    # Plots (axes, points, the heat map) leave many non-white pixels; a page of text alone far fewer.
    assert dark > 0.03 * image.size, dark
