"""Read run CSVs out of a zip archive without trusting its sizes: a zip bomb is refused from its
declared sizes before anything is inflated, and a member that lies about its size is cut off
by a streaming cap."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from flowsleuth.workflows.errors import DataError

MAX_MEMBER_ENV = "FLOWSLEUTH_MAX_MEMBER_MB"
DEFAULT_MAX_MEMBER_BYTES = 512 << 20
# Flow-Bench CSVs deflate about 5-10x; a member claiming 100x or more on a non-trivial size is
# a bomb, not a run.
MAX_RATIO = 100
_RATIO_FLOOR_BYTES = 1 << 20
_CHUNK = 1 << 20


def max_member_bytes() -> int:
    """The per-member cap: ``FLOWSLEUTH_MAX_MEMBER_MB`` (MiB) or 512 MiB."""
    raw = os.environ.get(MAX_MEMBER_ENV)
    if not raw:
        return DEFAULT_MAX_MEMBER_BYTES
    try:
        mb = float(raw)
    except ValueError:
        raise DataError(MAX_MEMBER_ENV, f"not a number of MiB: {raw!r}") from None
    if mb <= 0:
        raise DataError(MAX_MEMBER_ENV, f"must be positive, got {raw!r}")
    return int(mb * (1 << 20))


def is_run_member(name: str) -> bool:
    return name.lower().endswith(".csv") and not name.startswith("__MACOSX")


def _check_declared(info: zipfile.ZipInfo, where: str, cap: int) -> None:
    if info.file_size > cap:
        raise DataError(
            where,
            f"refused: member inflates to {info.file_size / (1 << 20):,.0f} MiB, over the "
            f"{cap / (1 << 20):,.0f} MiB limit ({MAX_MEMBER_ENV})",
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
        raise DataError(where, f"refused: compression ratio {ratio:,.0f}:1 looks like a zip bomb")


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, cap: int) -> io.BytesIO:
    """The member's bytes, read in chunks and never more than ``cap`` of them."""
    _check_declared(info, where, cap)
    buf = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                if buf.tell() + len(chunk) > cap:
                    raise DataError(where, f"refused: member inflates past the {cap >> 20} MiB limit")
                buf.write(chunk)
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError) as err:
        raise DataError(where, f"cannot extract ({err})") from None
    buf.seek(0)
    return buf


def open_zip(p: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(p, f"not a readable zip archive ({err})") from None
