"""ICL prompts and the free-text label parser (no model needed)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest
from flowsleuth.workflows.sentence import render

# bench/ is scripts, not a package: load the bench's prompt module from its file.
_PATH = Path(__file__).resolve().parents[2] / "bench" / "icl_prompts.py"
_SPEC = importlib.util.spec_from_file_location("icl_prompts", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
icl = importlib.util.module_from_spec(_SPEC)
sys.modules["icl_prompts"] = icl
_SPEC.loader.exec_module(icl)
ClassStats, IclAnswer, IclCotAnswer = icl.ClassStats, icl.IclAnswer, icl.IclCotAnswer
IclExample, IclPrompter, parse_label = icl.IclExample, icl.IclPrompter, icl.parse_label
parse_sentence, static_examples = icl.parse_sentence, icl.static_examples
NORMAL = render({"runtime": 10.0, "queue_delay": 5.0, "stage_in_bytes": float("nan")})
SLOW = render({"runtime": 100.0, "queue_delay": 7.0, "stage_in_bytes": 3.0})
POOL = [IclExample(text=NORMAL, label=0)] * 4 + [IclExample(text=SLOW, label=1)] * 2


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("abnormal", "abnormal"),
        ("Normal.", "normal"),
        ("The job is not abnormal, so it is fine", "normal"),
        ("It looks normal at first but the runtime is anomalous", "abnormal"),
        ("Runtime is high. Answer: abnormal", "abnormal"),
        ("abnormal runtime... Final answer: normal", "normal"),
        ('{"label": "abnormal"}', "abnormal"),
        ("I cannot tell", None),
    ],
)
def test_parse_label(text, want):
    assert parse_label(text) == want


def test_parse_sentence_and_stats():
    feats = parse_sentence(NORMAL)
    assert feats["runtime"] == 10.0 and math.isnan(feats["stage_in_bytes"])
    stats = ClassStats.from_examples(POOL)
    assert stats.rows[1]["runtime"] == (100.0, 0.0)
    assert "stage_in_bytes" not in stats.rows[0]  # all NaN: no statistic
    assert "abnormal jobs: wms_delay" not in stats.render()  # absent features stay absent
    assert "runtime 100 ± 0" in stats.render()


def test_static_examples_are_seeded_and_cover_both_classes():
    a, b = static_examples(POOL, 3, seed=1), static_examples(POOL, 3, seed=1)
    assert a == b and {e.label for e in a} == {0, 1} and len(a) == 3


def test_modes_build_expected_prompts():
    stats = ClassStats.from_examples(POOL)
    shots = static_examples(POOL, 3)
    zero = IclPrompter("zero_shot").messages(SLOW)[1].content
    assert "Statistics" not in zero and "Examples" not in zero and SLOW.strip() in zero
    few = IclPrompter("few_shot", stats=stats, examples=shots).messages(SLOW)[1].content
    assert "mean ± std" in few and few.count("Answer:") == 3
    calls = []
    dyn = IclPrompter("dynamic", stats=stats, retrieve=lambda t, k: calls.append(k) or POOL[-k:])
    assert dyn.messages(SLOW)[1].content.count("Answer: abnormal") == 2 and calls == [3]
    cot = IclPrompter("cot", stats=stats, examples=shots)
    assert "step-by-step" in cot.messages(SLOW)[1].content
    assert cot.schema is IclCotAnswer and dyn.schema is IclAnswer
    with pytest.raises(ValueError):
        IclPrompter("dynamic", stats=stats)
