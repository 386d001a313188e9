"""Benchmark the job index: build time and disk size, query latency, kNN-vote F1, and how fast a
workflow the index has never seen becomes usable (1, 2, 5 indexed runs).

A per-workflow subsample of runs (stratified by injected anomaly) keeps this within minutes on
2 cores. The split is by whole runs (workflows.splits.run_split, seed 42): the template is chosen
on validation runs, every number below it is on test runs. The paper's job-level split is also
reported, on the jobs of the same sampled runs (that split lets neighbours come from the job's
own run, as the paper's protocol does).

    .venv/bin/python -m bench.retrieval [--train-runs 30 --val-runs 6 --test-runs 12]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.metrics import f1_score

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from flowsleuth.retrieval.cache import CachedEmbedder, VectorCache
from flowsleuth.retrieval.documents import TEMPLATES
from flowsleuth.retrieval.embedder import Embedder, HashingEmbedder, MiniLMEmbedder
from flowsleuth.retrieval.fewshot import select_few_shot
from flowsleuth.retrieval.index import JobIndex, open_index
from flowsleuth.retrieval.knn import vote, vote_run
from flowsleuth.retrieval.query import job_vector, run_vectors
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.flowbench import paper_split_rows, run_files
from flowsleuth.workflows.labels import parse_label
from flowsleuth.workflows.loader import load_run, parse_run_name
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.splits import labelled_sentences, paper_split, run_split

from bench._common import command, results_dir

WORKFLOWS = ("1000-genome", "montage", "predict-future-sales")
NOTES = """
Notes: a subsample (runs per workflow and split as in the setup line, stratified by injected
anomaly), because MiniLM embedded only ~5-8 sentences/s on this shared 2-core box (load 9-13
from other jobs; ~400/s when idle). build_s, embed_s and latencies are from that contended box.
F1: job level, anomalous = positive; macro_f1 over normal/anomalous; class_macro_f1 over
normal/cpu/hdd. Neighbours never come from the job's own run, except in paper_split, which
follows the paper's job-level protocol (train and test jobs of the same sampled runs).
Adaptation: N random runs of the workflow's train runs indexed (3 draws, seeds 0-2), scored on
its test runs; with 1 run the draw is often a normal run, so no anomalous neighbour exists.
"""


class TimedModel:
    """MiniLM with a stopwatch: cache misses only reach it, so this is cold embedding time."""

    def __init__(self, inner: Embedder | None = None) -> None:
        self.inner = inner or MiniLMEmbedder()
        self.name, self.dim = self.inner.name, self.inner.dim
        self.seconds, self.texts = 0.0, 0

    def embed(self, texts: list[str]) -> np.ndarray:
        t0 = time.perf_counter()
        out = self.inner.embed(texts)
        self.seconds += time.perf_counter() - t0
        self.texts += len(texts)
        return out


TIMER = TimedModel()
_BUILDS = itertools.count()


def stratified_pick(paths: list[Path], n: int, seed: int) -> list[Path]:
    """``n`` runs in proportion to their injected anomaly (the folder name)."""
    rng = np.random.default_rng(seed)
    strata: dict[str, list[Path]] = {}
    for p in paths:
        strata.setdefault(p.parent.name, []).append(p)
    keyed = []
    for group in strata.values():
        order = rng.permutation(len(group))
        keyed += [((pos + rng.random()) / len(group), group[i]) for pos, i in enumerate(order)]
    return sorted(p for _, p in sorted(keyed, key=lambda kp: kp[0])[:n])


def split_paths(workflow: str, counts: dict[str, int]) -> dict[str, list[Path]]:
    files = run_files(workflow)
    injected = {f: ("None" if f.parent.name == "normal" else f.parent.name) for f in files}
    assign = run_split([(parse_run_name(f.stem)[1], workflow, injected[f]) for f in files])
    out = {}
    for split, n in counts.items():
        pool = [f for f in files if assign[parse_run_name(f.stem)[1]] == split]
        out[split] = stratified_pick(pool, n, seed=0)
    return out


def truth(run: Run) -> tuple[list[int], list[str]]:
    assert run.labels is not None
    labels = [parse_label(str(v)) for v in run.labels]
    return [int(lb.is_anomalous) for lb in labels], [lb.kind.value for lb in labels]


def scores(index: JobIndex, runs: list[Run], k: int) -> dict[str, float]:
    """Job-level F1 (anomalous positive), binary macro-F1 and 3-class macro-F1 of the vote."""
    y, yc, p, pc, missing = [], [], [], [], 0
    for run in runs:
        votes = vote_run(index, Subject(run), k)
        b, c = truth(run)
        for job, tb, tc in zip(run.job_ids, b, c, strict=True):
            v = votes[job]
            missing += v is None
            y.append(tb)
            yc.append(tc)
            p.append(int(v.anomalous) if v else 0)
            pc.append(v.predicted_class if v else "normal")
    return {
        "jobs": len(y),
        "no_neighbours": missing,
        "f1": round(float(f1_score(y, p, zero_division=0)), 3),
        "macro_f1": round(float(f1_score(y, p, average="macro", zero_division=0)), 3),
        "class_macro_f1": round(float(f1_score(yc, pc, average="macro", zero_division=0)), 3),
    }


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def build(work: Path, name: str, template: str, emb: Embedder, runs: list[Run]) -> tuple[JobIndex, dict]:
    # a fresh path each time: chroma caches its client per path within a process
    d = work / f"{name}-{next(_BUILDS)}"
    shutil.rmtree(d, ignore_errors=True)
    index = open_index(d, template=template, embedder=emb, create=True)
    model = TIMER.seconds, TIMER.texts
    t0 = time.perf_counter()
    report = index.add_runs(runs)
    secs = time.perf_counter() - t0
    embed_s, embedded = TIMER.seconds - model[0], TIMER.texts - model[1]
    return index, {
        "runs": report.runs,
        "jobs": report.jobs,
        "build_s": round(secs, 1),
        "embedded": embedded,
        "embed_s": round(embed_s, 1),
        "chroma_s": round(secs - embed_s, 1),
        "disk_mib": round(dir_size(d) / 2**20, 1),
    }


def latency(index: JobIndex, runs: list[Run], k: int, n: int = 200) -> dict[str, float]:
    rng = np.random.default_rng(1)
    subjects = [Subject(r) for r in runs]
    query_ms, shot_ms = [], []
    for i in range(n):
        s = subjects[int(rng.integers(len(subjects)))]
        job = s.run.job_ids[int(rng.integers(len(s.run)))]
        s = s.for_job(job)
        v = job_vector(index, s)[None, :]  # embedded with its run, once, outside the timer
        t0 = time.perf_counter()
        vote(index.query(s.run.workflow, v, k, exclude_run=s.run.run_id)[0])
        query_ms.append((time.perf_counter() - t0) * 1e3)
        if i < n // 4:
            t0 = time.perf_counter()
            select_few_shot(index, s, k=4)
            shot_ms.append((time.perf_counter() - t0) * 1e3)
    pct = lambda xs, q: round(float(np.percentile(xs, q)), 2)  # noqa: E731
    return {
        "knn_p50_ms": pct(query_ms, 50),
        "knn_p95_ms": pct(query_ms, 95),
        "fewshot_p50_ms": pct(shot_ms, 50),
        "fewshot_p95_ms": pct(shot_ms, 95),
    }


def paper_assignment(wf: str) -> dict[tuple[str, str], str]:
    """(run id, node id) -> the paper's split, rebuilt over every run of the workflow."""
    all_runs = [load_run(f) for f in run_files(wf)]
    test, val = paper_split_rows(wf)
    assign = paper_split(labelled_sentences(all_runs), test, val).assignment
    return dict(zip(zip(assign["run_id"], assign["node_id"], strict=True), assign["split"], strict=True))


def paper_split_scores(
    work: Path, template: str, emb: Embedder, wf: str, runs: list[Run], split: dict, k: int
) -> dict:
    """The paper's job split restricted to the sampled runs; neighbours may share the run."""
    train_runs, y, p = [], [], []
    for r in runs:
        mask = np.array([split[(r.run_id, j)] == "train" for j in r.job_ids])
        train_runs.append(Run(r.workflow, r.run_id, r.source, r.frame[mask], r.labels[mask], r.injected))  # type: ignore[index]
    index, _ = build(work, f"paper-{wf}-{template}", template, emb, train_runs)
    for r in runs:
        ids, vectors = run_vectors(index, Subject(r))
        test_rows = [i for i, j in enumerate(ids) if split[(r.run_id, j)] == "test"]
        if not test_rows:
            continue
        found = index.query(wf, vectors[test_rows], k)
        b, _ = truth(r)
        for i, ns in zip(test_rows, found, strict=True):
            v = vote(ns)
            y.append(b[i])
            p.append(int(v.anomalous) if v else 0)
    return {"test_jobs": len(y), "f1": round(float(f1_score(y, p, zero_division=0)), 3)}


def adaptation(
    work: Path, template: str, emb: Embedder, wf: str, train: list[Run], test: list[Run], k: int
) -> dict:
    """A workflow new to the index: only 1, 2 or 5 of its runs indexed (3 random draws each)."""
    out: dict[str, dict] = {}
    for n in (1, 2, 5):
        f1s = []
        for seed in range(3):
            pick = np.random.default_rng(seed).choice(len(train), size=min(n, len(train)), replace=False)
            runs = [train[i] for i in sorted(pick)]
            index, _ = build(work, f"adapt-{wf}", template, emb, runs)
            f1s.append(scores(index, test, k)["f1"])
        out[str(n)] = {"f1_median": statistics.median(f1s), "f1_draws": f1s}
    return out


def table(title: str, rows: list[dict]) -> Table:
    t = Table(title=title, title_justify="left")
    for col in rows[0]:
        t.add_column(col)
    for r in rows:
        t.add_row(*(str(v) for v in r.values()))
    return t


def markdown(title: str, rows: list[dict]) -> str:
    head = "| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n"
    return (
        f"### {title}\n\n"
        + head
        + "".join("| " + " | ".join(str(v) for v in r.values()) + " |\n" for r in rows)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-runs", type=int, default=6)
    ap.add_argument("--val-runs", type=int, default=2)
    ap.add_argument("--test-runs", type=int, default=4)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/flowsleuth-bench-retrieval"))
    ap.add_argument("--hashing", action="store_true", help="smoke-test with the hashing embedder")
    args = ap.parse_args()
    if args.hashing:
        TIMER.inner = HashingEmbedder()
        TIMER.name = TIMER.inner.name
    args.workdir.mkdir(parents=True, exist_ok=True)
    emb = CachedEmbedder(TIMER, VectorCache(args.workdir / "vectors.sqlite"))
    counts = {"train": args.train_runs, "validation": args.val_runs, "test": args.test_runs}
    data = {
        wf: {s: [load_run(p) for p in ps] for s, ps in split_paths(wf, counts).items()} for wf in WORKFLOWS
    }
    res: dict = {
        "setup": {**counts, "k": args.k, "per_workflow": "runs per split, stratified by injected anomaly"}
    }
    res["build"], res["validation"], res["test"] = [], [], []
    built: dict[tuple[str, str], JobIndex] = {}
    for template in TEMPLATES:
        for wf in WORKFLOWS:
            index, b = build(args.workdir, f"{template}-{wf}", template, emb, data[wf]["train"])
            built[(template, wf)] = index
            res["build"].append({"workflow": wf, "template": template, **b})
            for split in ("validation", "test"):
                res[split].append(
                    {"workflow": wf, "template": template, **scores(index, data[wf][split], args.k)}
                )
            print(f"{template} {wf}: {res['test'][-1]}", flush=True)
    val = {t: statistics.mean(r["f1"] for r in res["validation"] if r["template"] == t) for t in TEMPLATES}
    chosen = max(TEMPLATES, key=lambda t: val[t])
    res["chosen_template"] = {"template": chosen, "validation_mean_f1": val}
    res["latency"], res["adaptation"], res["paper_split"] = [], [], []
    for wf in WORKFLOWS:
        index = built[(chosen, wf)]
        res["latency"].append({"workflow": wf, **latency(index, data[wf]["test"], args.k)})
        ad = adaptation(args.workdir, chosen, emb, wf, data[wf]["train"], data[wf]["test"], args.k)
        res["adaptation"].append(
            {"workflow": wf, **{f"{n} runs F1": v["f1_median"] for n, v in ad.items()}, "draws": ad}
        )
        split = paper_assignment(wf)
        runs = [r for s in ("train", "validation", "test") for r in data[wf][s]]
        for template in TEMPLATES:
            res["paper_split"].append(
                {
                    "workflow": wf,
                    "template": template,
                    **paper_split_scores(args.workdir, template, emb, wf, runs, split, args.k),
                }
            )
        print(f"{wf}: {res['adaptation'][-1]}", flush=True)
    out = results_dir()
    out.mkdir(parents=True, exist_ok=True)
    if args.hashing:
        return
    (out / "retrieval.json").write_text(json.dumps(res, indent=2))
    console, md = (
        Console(),
        ["# Retrieval benchmark\n", f"`{command()}`\n", json.dumps(res["setup"]) + "\n"],
    )
    for key in ("build", "validation", "test", "latency", "paper_split"):
        console.print(table(key, res[key]))
        md.append(markdown(key, res[key]))
    rows = [{k: v for k, v in r.items() if k != "draws"} for r in res["adaptation"]]
    console.print(table("adaptation (median of 3 draws)", rows))
    md.append(
        markdown(
            "adaptation: kNN F1 on test runs with only N runs of the workflow indexed (median of 3 draws)",
            rows,
        )
    )
    md.append(f"\nchosen template (validation mean F1): {json.dumps(res['chosen_template'])}\n")
    md.append(NOTES)
    (out / "retrieval.md").write_text("\n".join(md))


if __name__ == "__main__":
    main()
