from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from flowsleuth.agent.validate import quoted_numbers, strip_unbacked, unbacked
from flowsleuth.tools.decision.decide import decide
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.workflows.contract import ToolResult

HOST = "worker2-container-16-19"
JOB = "individuals_ID0000047"


def test_numbers_inside_identifiers_are_not_claims() -> None:
    text = f"Job {JOB} on {HOST} (class hdd_5) ran 3.2x its peers."
    assert [raw for raw, _, _ in quoted_numbers(text, [JOB, HOST])] == ["3.2"]


def test_backed_numbers_may_be_rounded_or_percent() -> None:
    allowed = [3.2417, 0.9123, 95.0]
    text = "Runtime is 3.24 times the median, 3.2x overall; score 0.91 (91%); 95% percentile."
    assert unbacked(text, allowed) == []


def test_hallucinated_number_is_caught_and_stripped() -> None:
    allowed = [3.2417]
    text = "Runtime is 3.24 times the median. The disk ran at 12.5 MB/s. Check the node."
    assert unbacked(text, allowed) == ["12.5"]
    assert strip_unbacked(text, allowed) == "Runtime is 3.24 times the median. Check the node."


def _scores(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
    y = pd.Series(rng.integers(0, 2, n))
    good = np.clip(0.5 + (y - 0.5) * 0.8 + rng.normal(0, 0.1, n), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, n)
    return pd.DataFrame({"good": good, "noise": noise}), y


def test_fusion_learns_to_trust_the_informative_source() -> None:
    rng = np.random.default_rng(0)
    x, y = _scores(400, rng)
    fusion = Fusion.fit(x, y)
    assert set(fusion.models) == {"good", "noise", "good+noise"}
    both = fusion.models["good+noise"]
    assert abs(both.coef[0]) > 5 * abs(both.coef[1])
    xt, yt = _scores(200, rng)
    pred = np.array([fusion.predict(r) for r in xt.to_dict("records")])
    assert ((pred >= 0.5) == yt.to_numpy()).mean() > 0.95
    # A missing source falls back to the model fitted without it.
    assert fusion.predict({"good": 0.9}) == pytest.approx(fusion.models["good"].predict({"good": 0.9}))
    assert fusion.predict({}) is None


def test_fusion_round_trips(tmp_path) -> None:
    rng = np.random.default_rng(1)
    fusion = Fusion.fit(*_scores(100, rng))
    fusion.save(tmp_path / "f.json")
    assert Fusion.load(tmp_path / "f.json") == fusion


def test_decide_takes_class_from_class_probs_and_hedges_on_disagreement() -> None:
    results = [
        ToolResult.ok("a", {"score": 0.9, "class_probs": {"None": 0.1, "cpu_3": 0.2, "hdd_5": 0.7}}, ""),
        ToolResult.ok("b", {"score": 0.2}, ""),
        ToolResult.failed("c", "boom"),
    ]
    d = decide(results, Fusion(), host=HOST)
    assert d.score == pytest.approx(0.55)
    assert d.is_anomalous and d.anomaly_class == "hdd_5" and d.culprit == HOST
    assert d.confidence == "low"
    assert d.sources == {"a": 0.9, "b": 0.2}
