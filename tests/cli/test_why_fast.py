"""``why`` in a fresh process: with the SFT export cached it imports no torch, peft or
transformers (``--backend none``); concurrent first runs each leave one whole export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flowsleuth.tools.pretrained import pretrained_adapters_dir
from flowsleuth.workflows.sample import sample_run

RUN, JOB = "1000-genome-run0084", "individuals_ID0000047"
HEAVY = ("torch", "peft", "transformers")
# ``why`` in this interpreter, then which heavy modules it imported and its sft_score
_WHY = """
import io, json, sys, contextlib
from flowsleuth.cli.main import app
out = io.StringIO()
with contextlib.redirect_stdout(out):
    app(["why", sys.argv[1], sys.argv[2], "--json"], standalone_mode=False)
evidence = json.loads(out.getvalue())["evidence"]
ev = [e["value"] for e in evidence if e["tool"] == "sft_score" and e["name"] == "score"]
print(json.dumps({"imported": [m for m in %r if m in sys.modules], "sft": ev}))
""" % (HEAVY,)  # noqa: UP031


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FLOWSLEUTH_HOME": str(home),
        "FLOWSLEUTH_CONFIG": str(home / "absent.toml"),
        "FLOWSLEUTH_NO_PLUGINS": "1",
        "FLOWSLEUTH_BACKEND": "none",
    }


def _why(home: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-c", _WHY, str(sample_run(RUN)), JOB]
    return subprocess.Popen(cmd, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen[str]) -> tuple[dict[str, list], str]:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    return json.loads(out.strip().splitlines()[-1]), err


@pytest.mark.slow
@pytest.mark.skipif(pretrained_adapters_dir() is None, reason="no shipped adapters")
def test_why_with_a_cached_export_imports_no_torch_and_scores_alike(tmp_path: Path) -> None:
    first, _ = _result(_why(tmp_path))  # empty cache: PyTorch scores, then the export is cached
    assert set(HEAVY) <= set(first["imported"])
    (export,) = (tmp_path / "cache" / "onnx").glob("sft-*.onnx")
    second, _ = _result(_why(tmp_path))
    assert second["imported"] == []
    assert len(first["sft"]) == len(second["sft"]) == 1
    assert abs(first["sft"][0] - second["sft"][0]) < 1e-4  # evidence is rounded to 4 decimals
    assert list((tmp_path / "cache" / "onnx").glob("*.onnx")) == [export]


@pytest.mark.slow
@pytest.mark.skipif(pretrained_adapters_dir() is None, reason="no shipped adapters")
def test_concurrent_first_runs_leave_one_whole_export(tmp_path: Path) -> None:
    procs = [_why(tmp_path) for _ in range(2)]
    results = [_result(p) for p in procs]
    assert all(len(r["sft"]) == 1 for r, _ in results)
    cache = tmp_path / "cache" / "onnx"
    assert len(list(cache.glob("sft-*.onnx"))) == 1 and not list(cache.glob(".build-*"))
    after, err = _result(_why(tmp_path))
    assert after["imported"] == [] and "SFT export" not in err  # the export is whole and used
