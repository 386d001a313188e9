"""Classification tasks: which classes a scorer predicts, and how a raw label maps onto them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from flowsleuth.workflows.labels import NORMAL_LABEL, parse_label

Task = Literal["binary", "kind", "multiclass"]
TASKS: tuple[Task, ...] = ("binary", "kind", "multiclass")
ANOMALOUS = "anomalous"


def target_of(raw: str, task: Task) -> str:
    """The class of a raw ``anomaly_type`` under ``task``.

    binary: 'None' / 'anomalous'; kind: 'None' / 'cpu' / 'hdd'; multiclass: the raw label.
    """
    label = parse_label(raw)
    if not label.is_anomalous:
        return NORMAL_LABEL
    if task == "binary":
        return ANOMALOUS
    if task == "kind":
        return label.kind.value
    return label.raw


def class_list(targets: Iterable[str]) -> list[str]:
    """The label map: 'None' first (index 0), then the anomalous classes sorted."""
    seen = set(targets)
    return [NORMAL_LABEL, *sorted(seen - {NORMAL_LABEL})]
