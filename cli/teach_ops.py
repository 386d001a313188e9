"""What ``flowsleuth label`` and ``feedback`` do: keep labelled jobs' features in the home (for
the per-workflow adaptation) and, when the class is known, add them to the Chroma index (for
the few-shot examples and the kNN vote)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from flowsleuth.cli.app.settings import Settings
from flowsleuth.workflows.errors import DataError, FlowsleuthError
from flowsleuth.workflows.labels import UnknownLabelError, parse_label
from flowsleuth.workflows.models import Run

Judgement = tuple[bool, str | None]  # (anomalous, class such as 'hdd_5' when known)


def _index_subset(settings: Settings, run: Run, judged: dict[str, Judgement]) -> int:
    """Add the judged jobs whose label is a valid Flow-Bench label to the Chroma index."""
    from flowsleuth.retrieval.index import open_index

    raw = {}
    for job, (bad, cls) in judged.items():
        label = cls if bad else "None"
        try:
            raw[job] = parse_label(label or "").raw
        except UnknownLabelError:
            continue
    if not raw:
        return 0
    sub = Run(run.workflow, run.run_id, run.source, run.frame.loc[list(raw)], pd.Series(raw), None)
    index = (
        open_index(chroma_url=settings.chroma_url, create=True)
        if settings.chroma_url
        else open_index(settings.index_path, create=True)
    )
    return index.add_runs([sub]).jobs


def record_labels(
    settings: Settings, run: Run, judged: dict[str, Judgement], index: bool = True
) -> tuple[int, int, int]:
    """Store the judged jobs of ``run``. Returns (jobs labelled, labelled runs of the workflow,
    jobs added to the index)."""
    from flowsleuth.tools.generalist.features import in_run_features
    from flowsleuth.tools.generalist.scoring import with_history
    from flowsleuth.tools.generalist.store import LabelledJob, Store, feature_row

    for job in judged:
        run.job(job)  # raises a clear error naming close matches
    store = Store(settings.home)
    feats = with_history(run.frame, in_run_features(run.frame), store.history(run.workflow))
    store.add_labels(
        LabelledJob(
            workflow=run.workflow, run=run.run_id, job=j, anomalous=bad, features=feature_row(feats, j)
        )
        for j, (bad, _) in judged.items()
    )
    labels = store.labels(run.workflow)
    indexed = _index_subset(settings, run, judged) if index else 0
    return len(judged), labels.n_runs if labels else 0, indexed


def read_feedback(path: Path) -> dict[str, dict[str, Judgement]]:
    """run id -> job -> judgement, from triage JSONL rows that carry ``feedback`` ("anomalous" /
    "normal") or ``confirmed`` (true: the verdict was right)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise DataError(path, f"cannot read ({err.strerror})") from None
    out: dict[str, dict[str, Judgement]] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            run, job = str(row["run"]), str(row["job_id"])
        except (ValueError, KeyError, TypeError):
            raise DataError(path, "not a triage JSONL row (needs run and job_id)", row=n) from None
        fb, ok = row.get("feedback"), row.get("confirmed")
        if fb is None and ok is None:
            continue
        if fb is not None:
            if str(fb).lower() not in ("anomalous", "normal"):
                raise DataError(
                    path, f"feedback must be 'anomalous' or 'normal', not {str(fb)[:40]!r}", row=n
                )
            bad = str(fb).lower() == "anomalous"
        elif isinstance(ok, bool):
            bad = bool(row.get("is_anomalous")) == ok
        else:
            raise DataError(path, "confirmed must be true or false", row=n)
        cls = row.get("anomaly_class") if bad and bool(row.get("is_anomalous")) else None
        out.setdefault(run, {})[job] = (bad, str(cls) if cls else None)
    if not out:
        raise FlowsleuthError(f"{path}: no row carries 'feedback' or 'confirmed'")
    return out
