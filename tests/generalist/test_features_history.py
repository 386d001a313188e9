from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from flowsleuth.tools.generalist.features import history_features, in_run_features
from flowsleuth.tools.generalist.history import History
from flowsleuth.workflows.models import Run


def test_in_run_features_are_unit_free(make_run) -> None:  # type: ignore[no-untyped-def]
    """The same run in seconds or in minutes gives the same features: nothing absolute."""
    a = make_run("w", 1, kind="cpu_2", scale=1.0, seed=5)
    b = make_run("w", 1, kind="cpu_2", scale=1.0, seed=5)
    b.frame[["runtime", "kickstart_executables_cpu_time", "kickstart_online_iowait"]] *= 1000.0
    fa, fb = in_run_features(a.frame), in_run_features(b.frame)
    cols = ["hostz_r_runtime", "hostz_r_cpu_eff", "rank_runtime", "r_runtime", "run_iqr_r_runtime"]
    # log1p smoothing (+1 s) makes them nearly, not exactly, equal
    pd.testing.assert_frame_equal(fa[cols], fb[cols], rtol=0.1, atol=0.1)


def test_slow_hosts_stand_out_in_their_run(make_run) -> None:  # type: ignore[no-untyped-def]
    run = make_run("w", 1, kind="cpu_2", seed=3)
    f = in_run_features(run.frame)
    bad = run.labels != "None"
    assert f.loc[bad, "hostz_r_runtime"].min() > f.loc[~bad, "hostz_r_runtime"].max()


def test_features_tolerate_missing_columns(make_run) -> None:  # type: ignore[no-untyped-def]
    """A stampede DB has no kickstart_online_* counters: those features are NaN, not errors."""
    run = make_run("w", 1, kind="cpu_2", online=False)
    frame = run.frame.drop(columns=[c for c in run.frame.columns if c.startswith("kickstart_online")])
    f = in_run_features(frame)
    assert f["r_iowait"].isna().all()
    assert f["hostz_r_runtime"].notna().all()


def test_history_is_robust_to_an_anomalous_run(make_run) -> None:  # type: ignore[no-untyped-def]
    normal = [make_run("w", i, seed=9) for i in range(4)]
    hdd = make_run("w", 99, kind="hdd_5", seed=9)
    clean = History(workflow="w")
    clean.add(normal)
    mixed = History(workflow="w")
    mixed.add([*normal, hdd])
    assert mixed.n_runs == 5
    diff = (mixed.medians()["runtime"] - clean.medians()["runtime"]).abs().max()
    assert diff < 0.1  # log units: one throttled run of five barely moves the median


def test_history_sees_a_run_slowed_everywhere(make_run) -> None:  # type: ignore[no-untyped-def]
    hist = History(workflow="w")
    hist.add(make_run("w", i, seed=4) for i in range(5))
    slow = make_run("w", 50, kind="hdd_5", seed=4)
    normal = make_run("w", 51, seed=4)
    f_slow = history_features(slow.frame, hist.medians(), hist.host_medians())
    f_norm = history_features(normal.frame, hist.medians(), hist.host_medians())
    assert f_slow["run_med_b_runtime"].iloc[0] > f_norm["run_med_b_runtime"].iloc[0] + 0.3


def test_history_add_is_idempotent_and_roundtrips(tmp_path, make_run) -> None:  # type: ignore[no-untyped-def]
    hist = History(workflow="w")
    runs = [make_run("w", i) for i in range(3)]
    assert hist.add(runs) == 3
    assert hist.add(runs) == 0
    hist.save(tmp_path / "h.json")
    back = History.load(tmp_path / "h.json")
    assert back.runs == hist.runs
    np.testing.assert_allclose(back.medians().to_numpy(), hist.medians().to_numpy())


def test_history_never_reads_labels(make_run) -> None:  # type: ignore[no-untyped-def]
    run = make_run("w", 1, kind="cpu_2")
    unlabelled = Run(run.workflow, run.run_id, run.source, run.frame)
    a, b = History(workflow="w"), History(workflow="w")
    a.add([run])
    b.add([unlabelled])
    assert a.per_run == b.per_run


def test_a_run_without_peers_has_neutral_ranks(make_run) -> None:  # type: ignore[no-untyped-def]
    """One host and one job per transformation: nothing to compare with, so every rank sits
    in the middle (0.5), never at the top, where it would read as "the slowest of its peers"."""
    run = make_run("w", 1, n_hosts=1, jobs_per_tf=1)
    f = in_run_features(run.frame)
    ranks = f[[c for c in f.columns if c.startswith(("rank_", "hostrank_"))]].dropna(axis=1, how="all")
    assert ranks.shape[1] >= 5
    assert (ranks == 0.5).all().all()


def test_mid_ranks_are_symmetric() -> None:
    from flowsleuth.tools.generalist.features import mid_rank

    x = pd.DataFrame({"v": [1.0, 2.0, 3.0, 5.0, 5.0]})
    r = mid_rank(x, pd.Series(["a", "a", "b", "b", "b"]))["v"].tolist()
    # group b: 3 gets rank 1, the tied 5s share rank 2.5
    assert r == pytest.approx([0.25, 0.75, 0.5 / 3, 2.0 / 3, 2.0 / 3])


def test_a_history_without_io_counters_gives_nan_not_an_error(make_run) -> None:  # type: ignore[no-untyped-def]
    """Past runs read from a stampede DB carry no kickstart_online_* counters; a later run that
    has them is still judged against that history (those views are unknown, the rest are not)."""
    past = History(workflow="w")
    past.add(make_run("w", i, seed=4, online=False) for i in range(3))
    now = make_run("w", 9, seed=4)
    f = history_features(now.frame, past.medians(), past.host_medians())
    assert f["b_iowait"].isna().all()
    assert f["b_runtime"].notna().all()
