"""Find the runs of an archive tree: every top-most Pegasus submit directory, and every run CSV
outside one, under a directory (Pegasus' default layout is ``<base>/<user>/pegasus/<label>/runNNNN``).

The walk never descends into a submit directory: a hierarchical run's sub-workflow directories
nest under its root's, and the root's stampede DB already holds them. It is bounded, so a
facility's tree cannot hang it: at most :data:`MAX_DEPTH` levels and :data:`MAX_DIRS` listed
directories; directory symlinks are followed once per directory (by device and inode), so a
loop or a second link to the same run is listed once. Like the rest of the seam's questions it
is free of the DB stack: one ``os.scandir`` per directory, no file is opened.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from flowsleuth.workflows.errors import DataError

MAX_DEPTH = 10  # levels below the archive; the default layout puts runs 4 deep
MAX_DIRS = 200_000  # directories listed; far more than a submit host's runs (submit dirs are not entered)
_MARKERS = ("braindump.yml", "jobstate.log")


@dataclass(frozen=True)
class Found:
    path: Path
    kind: Literal["pegasus", "csv"]


@dataclass
class Walk:
    """What a walk found, in sorted path order, and what it could not search."""

    items: list[Found] = field(default_factory=list)
    problems: list[DataError] = field(default_factory=list)

    @property
    def submit_dirs(self) -> int:
        return sum(f.kind == "pegasus" for f in self.items)


def _is_submit_listing(entries: list[os.DirEntry[str]]) -> bool:
    return any((e.name in _MARKERS or e.name.endswith(".stampede.db")) and _is_file(e) for e in entries)


def _is_file(e: os.DirEntry[str]) -> bool:
    try:
        return e.is_file()
    except OSError:
        return False


def _is_dir(e: os.DirEntry[str]) -> bool:
    try:
        return e.is_dir()
    except OSError:
        return False


def _dir_key(e: os.DirEntry[str] | str) -> tuple[int, int] | None:
    """(device, inode) of a directory, symlinks followed; None when it is none (or unreadable)."""
    try:
        st = e.stat() if isinstance(e, os.DirEntry) else os.stat(e)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


def walk_archive(root: Path, *, stop_at_first: bool = False) -> Walk:
    """The submit directories and run CSVs under ``root`` (``root`` itself is not one), sorted
    by path. ``stop_at_first``: return as soon as one submit directory is found (a cheap "is
    this a Pegasus archive?"). More than :data:`MAX_DIRS` directories is a :class:`DataError`."""
    walk = Walk()
    start = _dir_key(str(root))
    if start is None:
        return walk
    seen = {start}
    stack: list[tuple[Path, int]] = [(root, 0)]
    listed = 0
    while stack:
        where, depth = stack.pop()
        listed += 1
        if listed > MAX_DIRS:
            raise DataError(
                root, f"more than {MAX_DIRS:,} directories to search for runs; name a smaller tree"
            )
        try:
            with os.scandir(where) as it:
                entries = sorted(it, key=lambda e: e.name)  # the first of two links wins, always the same
        except OSError as err:
            walk.problems.append(DataError(where, f"cannot list the directory ({err.strerror or err})"))
            continue
        if depth > 0 and _is_submit_listing(entries):
            walk.items.append(Found(where, "pegasus"))
            if stop_at_first:
                return walk
            continue  # its sub-workflows are in its DB
        subdirs = []
        for e in entries:
            if _is_dir(e):  # the listing's file type: a stat only for directories (and links)
                key = _dir_key(e)
                if key is not None and key not in seen:  # a symlink loop, or a second link to one
                    seen.add(key)
                    subdirs.append(Path(e.path))
            elif e.name.endswith(".csv") and _is_file(e):
                walk.items.append(Found(Path(e.path), "csv"))
        if subdirs and depth >= MAX_DEPTH:
            walk.problems.append(
                DataError(where, f"not searched: deeper than {MAX_DEPTH} levels below {root}")
            )
            continue
        stack.extend((d, depth + 1) for d in reversed(subdirs))
    walk.items.sort(key=lambda f: f.path)
    return walk


def is_pegasus_archive(source: str | Path) -> bool:
    """A directory that is no submit directory itself but holds one (bounded, see the module)."""
    p = Path(source)
    try:
        return p.is_dir() and walk_archive(p, stop_at_first=True).submit_dirs > 0
    except DataError:  # too large to tell cheaply: reading it says so in one line
        return True
