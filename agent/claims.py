"""Sentence by sentence, does a narration say only what the tools found?

Each sentence is checked against the numbered findings (``F1: host worker-7 runtime 1.95x ...``):

* every cited id (``F3`` or ``[F3]``) must exist;
* every number must be one a tool computed (:mod:`agent.validate`), and one of the cited
  findings' (or the verdict's); a sentence that cites none, one of the findings of what it talks
  about (``ran 1.00x the median of its peers``: the peers findings), when there are any;
* a direction it states (slower/faster, above/below, voted anomalous/normal, is / is not a
  culprit) must agree with
  the cited findings, or, when it cites none, with the findings of what it talks about;
* an exit code or retry count must be the job's recorded one (the ``state`` findings);
* a sentence about a tool that did not run (neighbours without an index, a classifier without
  a model, ...) is unsupported whatever it says;
* a name it writes (a class such as ``hdd_5``, a host such as ``worker1-container-4-7``: a word
  joined by ``_`` or ``-`` with a digit or ``_`` in it) must be one the findings, the verdict or
  the job's identifiers carry.

A failing sentence is removed; the rest are kept verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from flowsleuth.agent.validate import is_backed, quoted_numbers
from flowsleuth.workflows.contract import Finding

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CITE = re.compile(r"\bF(\d+)\b")
_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)+\b")

# What a sentence talks about, by the words it uses (case-insensitive).
TOPIC_WORDS: dict[str, re.Pattern[str]] = {
    k: re.compile(v, re.IGNORECASE)
    for k, v in {
        "neighbours": r"neighbou?r|nearest|labell?ed jobs|similar (?:labell?ed )?jobs|\bk-?nn\b",
        "classifier": r"classifier|\bsft\b|fine-tuned|tree model|p\(anomalous\)",
        "diagnosis": r"diagnos|culprit",
        "dag": r"\bparents?\b|\bchild(?:ren)?\b|upstream|downstream|\bdag\b",
        "baseline": r"baseline|percentile|normal runs",
        "peers": r"\bpeers?\b|median|other (?:hosts|jobs)",
        "host": r"\bhosts?\b|\bnodes?\b",
        "signature": r"signature|contention|throttl|\bdisk\b|\bi/?o\b|\bcpu\b",
        "state": r"exit ?(?:code|status)|exitcode|last state|\bheld\b|\bretr(?:y|ies|ied)\b|"
        r"\bstdout\b|\bstderr\b|htcondor|kickstart",
    }.items()
}
# Topics whose tool may be missing (no index, no model, no DAG): talking about them then is
# talking about a tool that did not run.
# ``state``: only a Pegasus run records exit codes, holds and retries.
OPTIONAL_TOPICS = ("neighbours", "classifier", "diagnosis", "dag", "baseline", "state")
_POLAR_TOPICS = {"neighbours", "classifier", "diagnosis", "state"}

_HIGHER = re.compile(r"\b(?:slower|longer|above|higher|more than|exceed\w*|greater)\b", re.IGNORECASE)
_LOWER = re.compile(r"\b(?:faster|shorter|below|lower|less than|quicker)\b", re.IGNORECASE)
_ANOMALOUS = re.compile(r"(?<!not )(?<!p\()\banomal\w*|(?<!not )\ba culprit\b", re.IGNORECASE)
_NORMAL = re.compile(
    r"(?<!ab)\bnormal\b(?! runs?\b| range\b)|\bnot anomal\w*|\bnot a culprit\b", re.IGNORECASE
)


# "exit code 2", "1 retry": a recorded count or code, which only the job's record may give
# (any other finding's number, e.g. a probability, is not one, even when the sentence cites it).
_RECORDED_NUMBER = re.compile(
    r"\bexit (?:code|status)\D{0,6}?(-?\d+(?:\.\d+)?)|\b(\d+(?:\.\d+)?) retr(?:y|ies)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class ClaimContext:
    """What a narration may rest on: the numbered findings, every tool-computed number, the
    verdict's numbers, and identifiers whose digits are not claims (job id, host, the verdict's
    class and culprit...)."""

    findings: Sequence[Finding]
    allowed: Sequence[float]
    verdict_numbers: Sequence[float] = ()
    identifiers: Sequence[str] = ()


@dataclass(frozen=True)
class SentenceCheck:
    sentence: str
    problems: list[str] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        return not self.problems


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s.strip()]


def topics(sentence: str) -> set[str]:
    return {t for t, rx in TOPIC_WORDS.items() if rx.search(sentence)}


def directions(sentence: str) -> set[str]:
    """The directions a sentence asserts: higher / lower / anomalous / normal."""
    out = set()
    for name, rx in (("higher", _HIGHER), ("lower", _LOWER), ("anomalous", _ANOMALOUS), ("normal", _NORMAL)):
        if rx.search(sentence):
            out.add(name)
    return out


def unknown_names(sentence: str, ctx: ClaimContext) -> list[str]:
    """The names (classes, hosts, jobs) in ``sentence`` that no finding or identifier carries."""
    known = " ".join([*(f.text for f in ctx.findings), *ctx.identifiers]).lower()
    names = (m.group(0) for m in _NAME.finditer(sentence))
    return [n for n in names if ("_" in n or any(c.isdigit() for c in n)) and n.lower() not in known]


def check_sentence(sentence: str, ctx: ClaimContext) -> SentenceCheck:
    by_id = {f.id: f for f in ctx.findings}
    problems: list[str] = [f"names {n}, which no tool found" for n in unknown_names(sentence, ctx)]
    cited_ids = [f"F{n}" for n in _CITE.findall(sentence)]
    unknown = [i for i in cited_ids if i not in by_id]
    problems += [f"cites {i}, which no tool found" for i in unknown]
    cited = [by_id[i] for i in cited_ids if i in by_id]
    about = topics(sentence)
    present = {f.about for f in ctx.findings}
    problems += [
        f"talks about {t}, but that tool did not run"
        for t in OPTIONAL_TOPICS
        if t in about and t not in present
    ]
    idents = [*ctx.identifiers, *cited_ids]
    relevant = cited or [f for f in ctx.findings if f.about in about]
    own = [n for f in relevant for n in f.numbers] + list(ctx.verdict_numbers)
    for raw, value, pct in quoted_numbers(sentence, idents):
        if not is_backed(raw, value, pct, ctx.allowed):
            problems.append(f"number {raw} no tool computed")
        elif relevant and not is_backed(raw, value, pct, own):
            where = ", ".join(f.id for f in cited) or f"the {'/'.join(sorted(about))} findings"
            problems.append(f"number {raw} is not in {where}")
    recorded = [n for f in ctx.findings if f.about == "state" for n in f.numbers]
    for m in _RECORDED_NUMBER.finditer(sentence):
        raw = m.group(1) or m.group(2)
        if not any(float(raw) == n for n in recorded):
            problems.append(f"{m.group(0).strip()}: no recorded state says so")
    for claim in sorted(directions(sentence)):
        polar = claim in ("anomalous", "normal")
        pool = [
            f.direction
            for f in relevant
            if f.direction is not None
            and (f.direction in ("anomalous", "normal")) == polar
            and (cited or not polar or f.about in _POLAR_TOPICS)
        ]
        if pool and claim not in pool:
            source = ", ".join(sorted({f.id or f.about for f in relevant}))
            problems.append(f"says {claim}, but {source} found {'/'.join(sorted(set(pool)))}")
    return SentenceCheck(sentence, problems)


def check(text: str, ctx: ClaimContext) -> list[SentenceCheck]:
    return [check_sentence(s, ctx) for s in sentences(text)]


def keep_supported(text: str, ctx: ClaimContext) -> tuple[str, list[SentenceCheck]]:
    """(the supported sentences, verbatim; the checks of the removed ones)."""
    checks = check(text, ctx)
    kept = " ".join(c.sentence for c in checks if c.supported)
    return kept, [c for c in checks if not c.supported]
