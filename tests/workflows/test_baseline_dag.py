from __future__ import annotations

from pathlib import Path

import pytest
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.dag import load_dag
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.loader import load_runs
from flowsleuth.workflows.sample import RUNS_DIR, bundled_dag


def test_baseline_fits_only_normal_runs_and_round_trips(tmp_path: Path) -> None:
    runs = load_runs(RUNS_DIR)
    prof = BaselineProfile.fit(runs)
    normal = [r for r in runs if r.injected == "None"]
    assert prof.runs["1000-genome"] == sum(r.workflow == "1000-genome" for r in normal)
    assert "individuals" in prof.profiles["1000-genome"]
    path = tmp_path / "baseline.json"
    prof.save(path)
    again = BaselineProfile.load(path)
    assert again == prof
    assert path.stat().st_size < 200_000


def test_percentile_is_monotone_and_bounded() -> None:
    prof = BaselineProfile.fit(load_runs(RUNS_DIR))
    fp = prof.lookup("1000-genome", "individuals", "runtime")
    assert fp is not None
    lo, med, hi = fp.quantiles[0], fp.quantiles[5], fp.quantiles[-1]
    pct = [prof.percentile("1000-genome", "individuals", "runtime", v) for v in (lo - 1, med, hi * 10)]
    assert pct[0] == 0.0
    assert pct[1] == pytest.approx(50.0, abs=1e-6)
    assert pct[2] == 100.0
    assert prof.percentile("unknown-wf", "individuals", "runtime", 5.0) is None
    assert prof.percentile("1000-genome", "individuals", "runtime", float("nan")) is None


def test_corrupt_baseline_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "b.json"
    p.write_text("{not json")
    with pytest.raises(DataError, match="not a baseline profile"):
        BaselineProfile.load(p)


def test_dag_parents_and_children() -> None:
    dag = bundled_dag("1000genome")
    assert dag is not None
    kids = dag.children("create_dir_1000-genome_0_condorpool")
    assert "individuals_ID0000001" in kids
    assert "create_dir_1000-genome_0_condorpool" in dag.parents("individuals_ID0000001")
    assert bundled_dag("montage") is not None
    assert bundled_dag("some-new-workflow") is None


def test_bad_dag_file(tmp_path: Path) -> None:
    p = tmp_path / "d.json"
    p.write_text('{"a": "b"}')
    with pytest.raises(DataError, match="adjacency"):
        load_dag(p)
