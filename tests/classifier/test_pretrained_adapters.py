"""The SFT adapters shipped in the package: they load offline, fit the size budget, and never
trained on a bundled sample run."""

from __future__ import annotations

import json

import pytest
from flowsleuth.tools.classifier import load_scorer
from flowsleuth.tools.classifier.sft_adapter import PACKAGED_BACKBONE
from flowsleuth.tools.pretrained import ADAPTERS_DIR, pretrained_adapters_dir
from flowsleuth.workflows.sample import sample_run, sample_runs

pytestmark = pytest.mark.skipif(pretrained_adapters_dir() is None, reason="no shipped adapters")


def test_shipped_adapters_load_offline_and_score() -> None:
    from flowsleuth.workflows.loader import load_run

    scorers = load_scorer(ADAPTERS_DIR)
    assert scorers.meta.backbone == PACKAGED_BACKBONE
    run = load_run(sample_run("1000-genome-run0084"))
    out = scorers.score_jobs(run, run.job_ids[:3])  # type: ignore[attr-defined]
    assert len(out) == 3 and out["score"].between(0, 1).all()


def test_shipped_adapters_fit_the_budget_and_leave_out_bundled_runs() -> None:
    size = sum(p.stat().st_size for p in ADAPTERS_DIR.rglob("*") if p.is_file())
    assert size <= 10 * 1024 * 1024
    prov = json.loads((ADAPTERS_DIR / "provenance.json").read_text())
    bundled = {p.stem for p in sample_runs()}
    used = {r for a in prov["adapters"].values() for runs in a["training_runs"].values() for r in runs}
    assert used and not used & bundled
    index = json.loads((ADAPTERS_DIR / "adapters.json").read_text())
    assert set(index["workflows"].values()) <= set(prov["adapters"])
