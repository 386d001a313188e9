"""Find what a submit directory holds: its braindump, its stampede DB, its jobstate.log; and
whether a source is Pegasus input at all. That question is asked by the reader seam on every
command, so it stays free of the DB stack (SQLAlchemy, ADBC: ~0.4 s of imports)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flowsleuth.workflows.errors import DataError

try:  # libyaml: ~1 ms less per submit dir than pure-Python safe_load (bench.pegasus_scale)
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader
_URL = re.compile(r"^[a-z][a-z0-9+]*://", re.IGNORECASE)


@dataclass(frozen=True)
class SubmitDir:
    path: Path
    braindump: dict[str, Any]
    db: Path | None
    jobstate_log: Path | None

    @property
    def label(self) -> str | None:
        v = self.braindump.get("dax_label")
        return str(v) if v else None

    @property
    def wf_uuid(self) -> str | None:
        v = self.braindump.get("wf_uuid")
        return str(v) if v else None

    @property
    def dag(self) -> Path | None:
        name = self.braindump.get("dag")
        if name and (self.path / str(name)).is_file():
            return self.path / str(name)
        dags = sorted(self.path.glob("*.dag"))
        return dags[0] if dags else None


def _braindump(path: Path) -> dict[str, Any]:
    f = path / "braindump.yml"
    if not f.is_file():
        return {}
    try:
        data = yaml.load(f.read_text(encoding="utf-8", errors="replace"), Loader=_Loader)
    except (yaml.YAMLError, OSError, RecursionError):  # RecursionError: nesting bombs
        raise DataError(f, "unreadable braindump.yml (not YAML)") from None
    return data if isinstance(data, dict) else {}


def open_submit_dir(path: Path) -> SubmitDir:
    """What the directory holds; a directory with none of it is not a submit directory."""
    bd = _braindump(path)
    db = None
    wf_name = bd.get("pegasus_wf_name")
    if wf_name and (path / f"{wf_name}.stampede.db").is_file():
        db = path / f"{wf_name}.stampede.db"
    else:
        found = sorted(path.glob("*.stampede.db"))
        db = found[0] if found else None
    log = path / str(bd.get("jsd") or "jobstate.log")
    jobstate = log if log.is_file() else None
    if not bd and db is None and jobstate is None:
        raise DataError(
            path, "not a Pegasus submit directory (no braindump.yml, *.stampede.db or jobstate.log)"
        )
    return SubmitDir(path=path, braindump=bd, db=db, jobstate_log=jobstate)


def looks_like_submit_dir(path: Path) -> bool:
    return path.is_dir() and (
        (path / "braindump.yml").is_file()
        or (path / "jobstate.log").is_file()
        or any(path.glob("*.stampede.db"))
    )


def is_db_url(text: str) -> bool:
    return bool(_URL.match(text))


def is_pegasus_source(source: str | Path) -> bool:
    """A DB URL, a submit directory, or an SQLite file (by name or by header)."""
    text = str(source)
    if is_db_url(text):
        return True
    p = Path(text)
    if p.is_dir():
        return looks_like_submit_dir(p)
    if p.name.endswith((".stampede.db", ".db", ".sqlite")):
        return True
    try:
        with p.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False
