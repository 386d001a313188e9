"""A scorer's artifact directory: ``meta.json`` (label map, backbone, template, data hash,
metrics, calibration) next to the weights. Loading checks what the caller expects."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from flowsleuth.tools.classifier.calibration import Calibration
from flowsleuth.tools.classifier.tasks import Task
from flowsleuth.workflows.atomic import atomic_write_text, sha256_hex
from flowsleuth.workflows.errors import FlowsleuthError
from pydantic import BaseModel, Field

META_FILE = "meta.json"
FORMAT_VERSION = 1


class ArtifactError(FlowsleuthError):
    """A model directory that is missing, unreadable, or not what the caller asked for."""


class FileCheck(BaseModel):
    """Size and digest of a weights file, recorded when it is written, checked before parsing."""

    size: int = Field(ge=0)
    sha256: str


class ArtifactMeta(BaseModel):
    """Everything needed to trust and reuse a trained scorer."""

    format_version: int = FORMAT_VERSION
    kind: Literal["sft", "tree"]
    name: str
    task: Task
    labels: list[str] = Field(description="label map: class index -> label; index 0 is 'None'")
    backbone: str = Field(description="encoder path/name (sft) or 'lightgbm' (tree)")
    template: str = Field(description="input template version: sentence template or feature set")
    feature_names: list[str] = Field(default_factory=list)
    data_hash: str = Field(description="sha256 of the training inputs and labels")
    n_train_rows: int
    n_val_rows: int
    params: dict[str, Any] = Field(default_factory=dict)
    train_seconds: float = 0.0
    metrics: dict[str, Any] = Field(default_factory=dict, description="validation metrics")
    calibration: Calibration = Field(default_factory=Calibration)
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    files: dict[str, FileCheck] = Field(
        default_factory=dict, description="weights file name -> size and sha256 (checked on load)"
    )


def data_hash(inputs: pd.DataFrame | pd.Series | Sequence[str], labels: Iterable[str]) -> str:
    """A stable hash of the training inputs (texts or feature rows) and their labels."""
    h = hashlib.sha256()
    if isinstance(inputs, pd.DataFrame | pd.Series):
        h.update(pd.util.hash_pandas_object(inputs, index=False).to_numpy().tobytes())
    else:
        for text in inputs:
            h.update(text.encode())
            h.update(b"\0")
    for label in labels:
        h.update(label.encode())
        h.update(b"\0")
    return h.hexdigest()


def write_meta(directory: str | Path, meta: ArtifactMeta) -> Path:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_text(d / META_FILE, meta.model_dump_json(indent=1))
    return d


def record_file(meta: ArtifactMeta, name: str, data: bytes) -> None:
    meta.files[name] = FileCheck(size=len(data), sha256=sha256_hex(data))


def read_checked(directory: str | Path, meta: ArtifactMeta, name: str) -> bytes:
    """The bytes of weights file ``name``, or :class:`ArtifactError` when it is missing or is
    not the file that was written (a partial copy, an interrupted save)."""
    path = Path(directory) / name
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ArtifactError(f"{path}: cannot read model file ({err.strerror or err})") from None
    check = meta.files.get(name)
    if check is None:
        return data  # written before digests were recorded: the caller checks the structure
    if len(data) != check.size:
        raise ArtifactError(
            f"{path}: {len(data)} bytes, but {check.size} were written (truncated or replaced)"
        )
    if sha256_hex(data) != check.sha256:
        raise ArtifactError(f"{path}: content does not match its recorded sha256 (corrupt or replaced)")
    return data


def read_meta(directory: str | Path) -> ArtifactMeta:
    d = Path(directory)
    path = d / META_FILE
    if not path.is_file():
        raise ArtifactError(f"{d}: not a flowsleuth model directory (no {META_FILE})")
    try:
        meta = ArtifactMeta.model_validate_json(path.read_text())
    except (OSError, ValueError) as err:
        raise ArtifactError(f"{path}: unreadable model metadata ({str(err).splitlines()[0]})") from None
    if meta.format_version != FORMAT_VERSION:
        raise ArtifactError(
            f"{d}: artifact format {meta.format_version}, this flowsleuth reads {FORMAT_VERSION}"
        )
    return meta


def check_expected(
    meta: ArtifactMeta,
    directory: str | Path,
    *,
    template: str | None = None,
    labels: Sequence[str] | None = None,
    kind: str | None = None,
) -> None:
    """Raise :class:`ArtifactError` when the artifact is not what the caller asked for."""
    if kind is not None and meta.kind != kind:
        raise ArtifactError(f"{directory}: a {meta.kind} model, but a {kind} model was asked for")
    if template is not None and meta.template != template:
        raise ArtifactError(
            f"{directory}: trained on template {meta.template!r}, but {template!r} was asked for"
        )
    if labels is not None and list(labels) != meta.labels:
        raise ArtifactError(
            f"{directory}: label map {meta.labels} does not match the expected {list(labels)}"
        )
