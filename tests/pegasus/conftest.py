from __future__ import annotations

import shutil
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
