"""The claim validator: each rule passes a supported sentence and fails an unsupported one."""

from __future__ import annotations

import pytest
from flowsleuth.agent.claims import ClaimContext, check_sentence, keep_supported
from flowsleuth.workflows.contract import Finding

PEERS = Finding(
    id="F1",
    tool="host_peers",
    about="peers",
    text="job runtime 1.95x the median of 40 merge jobs on other hosts (slower than its peers)",
    numbers=[1.95, 40.0],
    direction="higher",
)
HOST = Finding(
    id="F2",
    tool="host_peers",
    about="host",
    text="host worker-7 runtime 1.02x the other hosts overall (like them)",
    numbers=[1.02],
    direction="same",
)
KNN = Finding(
    id="F3",
    tool="knn_vote",
    about="neighbours",
    text="10 nearest labelled jobs of other runs vote normal (score 0.20)",
    numbers=[10.0, 0.2],
    direction="normal",
)


def ctx(*findings: Finding) -> ClaimContext:
    allowed = [n for f in findings for n in f.numbers] + [0.87, 3.0]
    return ClaimContext(
        findings, allowed, verdict_numbers=[0.87], identifiers=["worker-7", "merge_ID0000007", "hdd_5"]
    )


def problems(sentence: str, c: ClaimContext) -> list[str]:
    return check_sentence(sentence, c).problems


def test_cited_ids_must_exist() -> None:
    c = ctx(PEERS, HOST)
    assert problems("The job ran 1.95x its peers [F1].", c) == []
    assert problems("The job ran 1.95x its peers [F9].", c) == ["cites F9, which no tool found"]


def test_numbers_must_be_computed_and_belong_to_the_cited_finding() -> None:
    c = ctx(PEERS, HOST)
    assert problems("merge_ID0000007 on worker-7 ran 1.95x its peers.", c) == []  # ids are not numbers
    assert problems("The job ran 2.5x its peers.", c) == ["number 2.5 no tool computed"]
    assert problems("The host ran 1.95x the other hosts [F2].", c) == ["number 1.95 is not in F2"]
    assert problems("The score is 0.87 [F2].", c) == []  # the verdict's numbers are always quotable


def test_direction_must_agree_with_the_cited_or_topical_finding() -> None:
    c = ctx(PEERS, HOST, KNN)
    assert problems("The job was slower than its peers [F1].", c) == []
    assert problems("The job was faster than its peers [F1].", c) != []
    assert problems("Its nearest labelled jobs voted normal.", c) == []
    bad = problems("Its nearest labelled jobs voted anomalous.", c)
    assert bad == ["says anomalous, but F3 found normal"]


def test_a_sentence_about_a_tool_that_did_not_run_is_removed() -> None:
    c = ctx(PEERS)  # no kNN finding: no index
    assert problems("Its nearest neighbours voted normal.", c) == [
        "talks about neighbours, but that tool did not run"
    ]
    kept, removed = keep_supported("The job was slower than its peers [F1]. Its neighbours agree.", c)
    assert kept == "The job was slower than its peers [F1]."
    assert [r.sentence for r in removed] == ["Its neighbours agree."]


@pytest.mark.parametrize(
    "sentence", ["Check host worker-7 first.", "The tools found class hdd_5 on this host."]
)
def test_plain_advice_and_identifiers_pass(sentence: str) -> None:
    assert problems(sentence, ctx(PEERS, HOST)) == []


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("The run was diagnosed hdd_10.", "hdd_10"),  # not the verdict's class
        ("Host worker-9 is slower than the other hosts.", "worker-9"),  # not the job's host
    ],
)
def test_a_name_no_tool_found_is_unsupported(sentence: str, name: str) -> None:
    assert f"names {name}, which no tool found" in problems(sentence, ctx(PEERS, HOST))


def test_an_uncited_number_must_belong_to_the_findings_of_its_topic() -> None:
    c = ctx(PEERS, HOST)
    assert problems("The job ran 1.95x the median of its peers.", c) == []
    assert problems("The job ran 1.02x the median of its peers.", c) == [
        "number 1.02 is not in the peers findings"
    ]


def test_a_culprit_claim_must_agree_with_the_diagnosis() -> None:
    diagnosis = Finding(
        id="F3",
        tool="diagnosis",
        about="diagnosis",
        text="run diagnosed hdd_5 (p 0.96); host worker-7 is not a culprit (p 0.99)",
        numbers=[0.96, 0.99],
        direction="normal",
    )
    c = ctx(PEERS, HOST, diagnosis)
    assert problems("Per F3, its host is not a culprit.", c) == []
    assert problems("Per F3, the job's host is a culprit.", c) == ["says anomalous, but F3 found normal"]
