"""The eval runner over a hand-made case folder, with a scripted LLM (no models)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flowsleuth.agent.evals import load_cases, run_case, summarise
from flowsleuth.agent.evals.case import EvalCase, Expected, Fact, Forbidden, RecordedResult, save_case
from flowsleuth.agent.llm.fake import FakeBackend
from flowsleuth.agent.verdict import BriefNarrative
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.workflows.contract import Finding, ToolResult
from flowsleuth.workflows.errors import FlowsleuthError

JOB = "individuals_ID0000047"


def _results() -> list[RecordedResult]:
    score = ToolResult.ok(
        "tree_score",
        {"score": 0.9, "pred_class": "hdd_5"},
        "tree: 0.90",
        findings=[
            Finding(
                about="classifier",
                text="tree classifier P(anomalous) 0.90: anomalous (hdd_5)",
                numbers=[0.9],
                direction="anomalous",
            )
        ],
    )
    peers = ToolResult.ok(
        "host_peers",
        {"job_vs_peers": 2.4},
        "2.40x",
        findings=[
            Finding(
                about="peers",
                text="job runtime 2.40x the median (slower than its peers)",
                numbers=[2.4],
                direction="higher",
            )
        ],
    )
    knn = ToolResult.no_data("knn_vote", "no neighbours: no job index is configured")
    return [
        RecordedResult(kind="score", result=score),
        RecordedResult(kind="hint", result=peers),
        RecordedResult(kind="retrieval", result=knn),
    ]


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    case = EvalCase(
        name="hdd-clear",
        run="sample:hdd_5/1000-genome-run0084.csv",
        job_id=JOB,
        workflow="1000-genome",
        expected=Expected(is_anomalous=True, anomaly_class="hdd_5"),
        must_mention=[Fact(fact="2.40x its peers", any=["2.40", "slower"]), Fact(fact="disk", any=["disk"])],
        must_not_claim=[Forbidden(claim="neighbours (no index)", pattern=r"neighbou?r|nearest")],
    )
    save_case(case, _results(), tmp_path)
    return tmp_path


def test_runner_scores_a_case_before_and_after_validation(cases: Path) -> None:
    [case] = load_cases(cases, "hdd-*")
    bad = BriefNarrative(
        explanation="The job ran 2.40x its peers [F1]. Its nearest labelled jobs voted anomalous."
    )
    llm = FakeBackend(bad, bad, supports_tools=False, compact=True)
    out = run_case(case, llm, Fusion())
    assert out.verdict_agrees and out.class_agrees and out.llm_used
    # F1 is the peers finding (findings are numbered most telling first)
    assert (out.unsupported_before, out.sentences_before) == (1, 2)  # the kNN sentence: no index
    assert (out.unsupported_after, out.sentences_after) == (0, 1)
    assert out.mentioned == 1 and out.violations == []  # "2.40" kept, "disk" never said
    assert out.prompt_tokens > 0 and "nearest" not in out.explanation
    row = summarise([out])
    assert row["unsupported_rate_before"] == 0.5 and row["unsupported_rate_after"] == 0.0
    assert row["must_mention_recall"] == 0.5


def test_without_claim_checks_the_unsupported_sentence_stays_and_is_counted(cases: Path) -> None:
    [case] = load_cases(cases)
    bad = BriefNarrative(explanation="Its nearest labelled jobs voted anomalous.")
    out = run_case(
        case, FakeBackend(bad, bad, supports_tools=False, compact=True), Fusion(), check_claims=False
    )
    assert out.unsupported_after == 1 and out.violations == ["neighbours (no index)"]


def test_no_llm_plain_explanation_is_fully_supported(cases: Path) -> None:
    [case] = load_cases(cases)
    out = run_case(case, None, Fusion())
    assert not out.llm_used and out.unsupported_before == 0 and out.sentences_before == 2
    assert out.mentioned == 1


def test_no_matching_case_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FlowsleuthError, match="no eval cases"):
        load_cases(tmp_path, "nothing*")
