from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from flowsleuth.workflows.splits import labelled_sentences, paper_split, run_split


def _runs(n_per: int) -> list[tuple[str, str, str]]:
    return [
        (f"{wf}-run{kind}{i:03d}", wf, kind)
        for wf in ("a", "b")
        for kind in ("None", "cpu_2", "hdd_5")
        for i in range(n_per)
    ]


def test_run_split_is_deterministic_and_partitions_runs() -> None:
    runs = _runs(10)
    first = run_split(runs, (0.6, 0.2, 0.2), seed=7)
    assert first == run_split(list(reversed(runs)), (0.6, 0.2, 0.2), seed=7)
    assert set(first) == {r[0] for r in runs}
    assert run_split(runs, seed=8) != first


def test_run_split_is_stratified() -> None:
    runs = _runs(10)
    split = run_split(runs, (0.6, 0.2, 0.2), seed=1)
    per_stratum = Counter((wf, kind, split[rid]) for rid, wf, kind in runs)
    for wf in ("a", "b"):
        for kind in ("None", "cpu_2", "hdd_5"):
            assert per_stratum[(wf, kind, "train")] == 6
            assert per_stratum[(wf, kind, "validation")] == 2
            assert per_stratum[(wf, kind, "test")] == 2


def test_run_split_rejects_bad_fractions() -> None:
    with pytest.raises(ValueError, match="fractions"):
        run_split(_runs(1), (0.5, 0.5, 0.5))


def test_paper_split_is_a_multiset_difference() -> None:
    sentences = pd.DataFrame(
        {
            "run_id": ["r1"] * 5,
            "node_id": list("abcde"),
            "text": ["x", "x", "x", "y", "z"],
            "label": [0, 0, 0, 1, 0],
        }
    )
    test = pd.DataFrame({"text": ["x", "y"], "label": [0, 1]})
    validation = pd.DataFrame({"text": ["x", "q"], "label": [0, 0]})
    result = paper_split(sentences, test, validation)
    assert result.assignment["split"].tolist() == ["test", "validation", "train", "test", "train"]
    assert result.unmatched == {"test": 0, "validation": 1}  # 'q' is not among the jobs


def test_labelled_sentences_skip_unlabelled_runs(hdd_run) -> None:
    out = labelled_sentences([hdd_run, hdd_run.without_labels()])
    assert len(out) == len(hdd_run)
    assert out["label"].sum() == 33
