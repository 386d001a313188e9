from __future__ import annotations

import contextlib
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pegasus"


@pytest.fixture
def fixture_dir() -> Path:
    return FIXTURES


@pytest.fixture
def writable_copy(tmp_path: Path):
    """A writable copy of one fixture submit directory (the checked-in files are read-only)."""

    def copy(name: str) -> Path:
        dst = tmp_path / name
        shutil.copytree(FIXTURES / name, dst)
        for p in [dst, *dst.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        return dst

    return copy


def renamed_copy(src: Path, dst: Path, tag: str) -> Path:
    """A writable copy of the submit directory ``src`` at ``dst`` whose workflows have their own
    ``wf_uuid`` (a stable one per ``tag``), in its stampede DB and braindump files: another run."""
    shutil.copytree(src, dst)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    new: dict[str, str] = {}
    for db in dst.rglob("*.stampede.db"):
        with contextlib.closing(sqlite3.connect(db)) as con:
            for (old,) in con.execute("SELECT wf_uuid FROM workflow").fetchall():
                new[old] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{old}/{tag}"))
                con.execute("UPDATE workflow SET wf_uuid = ? WHERE wf_uuid = ?", (new[old], old))
            con.commit()
    for bd in dst.rglob("braindump.yml"):
        text = bd.read_text()
        for old, fresh in new.items():
            text = text.replace(old, fresh)
        bd.write_text(text)
    return dst
