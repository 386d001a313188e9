"""Feature variants chosen from the columns a run carries, and the scorer that honours them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.portable import NOT_IN_STAMPEDE, VariantScorer, choose_variant, feature_view
from flowsleuth.workflows.pegasus import iter_pegasus_runs
from flowsleuth.workflows.pegasus.writer import write_stampede

from .conftest import FIXTURES


class _Fake:
    def __init__(self, name: str) -> None:
        self.name = name
        self.meta = name
        self.seen: list[pd.DataFrame] = []

    def score_runs(self, runs):
        self.seen += [r.frame for r in runs]
        return pd.DataFrame({"score": [0.5] * sum(len(r) for r in runs)})


def test_variants_by_input(cpu_run, tmp_path: Path) -> None:
    assert choose_variant(cpu_run)[0] == "full"
    submit = next(iter(iter_pegasus_runs(FIXTURES / "process_wf_success")))
    variant, note = choose_variant(submit)
    assert variant == "portable+usage" and "kickstart usage" in note
    db = tmp_path / "x.stampede.db"
    write_stampede(db, [cpu_run])
    db_only = next(iter(iter_pegasus_runs(db)))
    assert choose_variant(db_only)[0] == "portable"


def test_feature_view_masks_and_maps_usage(cpu_run) -> None:
    portable = feature_view(cpu_run, "portable")
    assert all(portable.frame[c].isna().all() for c in NOT_IN_STAMPEDE)
    assert portable.frame["runtime"].equals(cpu_run.frame["runtime"])
    usage = feature_view(cpu_run, "portable+usage")
    assert usage.frame["kickstart_online_utime"].equals(cpu_run.frame["kickstart_online_utime"])
    assert usage.frame["stage_in_delay"].isna().all()
    submit = next(iter(iter_pegasus_runs(FIXTURES / "process_wf_success")))
    view = feature_view(submit, "portable+usage")
    np.testing.assert_array_equal(view.frame["kickstart_online_utime"], submit.frame["kickstart_usage_utime"])


def test_variant_scorer_dispatches(cpu_run) -> None:
    full, port, usage = _Fake("full"), _Fake("portable"), _Fake("usage")
    vs = VariantScorer(full, {"portable": port, "portable+usage": usage})
    submit = next(iter(iter_pegasus_runs(FIXTURES / "process_wf_success")))
    vs.score_runs([cpu_run, submit])
    assert len(full.seen) == 1 and len(usage.seen) == 1 and not port.seen
    assert usage.seen[0]["stage_in_delay"].isna().all()
    only_full = VariantScorer(full, {})
    assert only_full.variant_for(submit)[0] == "full"
