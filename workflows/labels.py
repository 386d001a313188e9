"""Flow-Bench anomaly labels: ``None`` is normal, ``cpu_K`` / ``hdd_K`` are injected anomalies."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

_LABEL_RE = re.compile(r"^(cpu|hdd)_(\d+)$")
NORMAL_LABEL = "None"


class AnomalyKind(StrEnum):
    NORMAL = "normal"
    CPU = "cpu"
    HDD = "hdd"


class Label(BaseModel):
    """A parsed job label. ``cpu_K``: K cores blocked; ``hdd_K``: disk throttled to K MB/s."""

    model_config = ConfigDict(frozen=True)

    raw: str
    kind: AnomalyKind
    severity: int | None = None

    @property
    def is_anomalous(self) -> bool:
        return self.kind is not AnomalyKind.NORMAL


class UnknownLabelError(ValueError):
    pass


@lru_cache(maxsize=64)
def parse_label(raw: str) -> Label:
    """Parse a raw ``anomaly_type`` string. Raises :class:`UnknownLabelError` on anything else."""
    text = raw.strip()
    if text == NORMAL_LABEL:
        return Label(raw=NORMAL_LABEL, kind=AnomalyKind.NORMAL)
    m = _LABEL_RE.match(text)
    if m is None:
        raise UnknownLabelError(f"unknown label {raw!r} (expected 'None', 'cpu_K' or 'hdd_K')")
    return Label(raw=text, kind=AnomalyKind(m.group(1)), severity=int(m.group(2)))


def binary_label(raw: str) -> int:
    """The paper's binary target: 0 for normal, 1 for any anomaly."""
    return int(parse_label(raw).is_anomalous)
