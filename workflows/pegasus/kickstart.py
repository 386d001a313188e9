"""Kickstart records (``00/00/<job>.out.NNN``, YAML) of a submit directory: per-job ``usage``.

A record is a YAML list of invocations. For each job we sum ``mainjob.usage`` over its invocations
(clustered jobs have several): utime, stime, inblock, outblock, nvcsw, nivcsw; maxrss is the max.
Unreadable or non-YAML files (a sub-workflow's planner output) give no record, never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml is ~10x faster; PyYAML falls back to pure Python without it
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

USAGE_SUM = ("utime", "stime", "inblock", "outblock", "nvcsw", "nivcsw")
MAX_BYTES = 8 * 1024 * 1024  # a record larger than this is not a kickstart record we parse


@dataclass(frozen=True)
class KickstartRecord:
    usage: dict[str, float] = field(default_factory=dict)  # kickstart_usage_<name> -> value
    hostname: str | None = None
    status: int | None = None  # raw status of the first failing main task, else of the first
    stdout: str = ""
    stderr: str = ""
    transformation: str = ""
    executable: str = ""
    argv: str = ""
    cpu_time: float = math.nan  # sum of mainjob utime + stime: what monitord stores as remote_cpu_time


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def parse_record(text: str) -> KickstartRecord | None:
    """One ``.out`` file's text -> its summed usage, or None when it is not a kickstart record."""
    if "invocation:" not in text[:4096]:
        return None
    try:
        docs = yaml.load(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):  # RecursionError: nesting bombs
        return None
    invs = [d for d in docs if isinstance(d, dict) and d.get("invocation")] if isinstance(docs, list) else []
    if not invs:
        return None
    usage = {f"kickstart_usage_{k}": 0.0 for k in USAGE_SUM}
    maxrss, status, out, err = math.nan, None, [], []
    xforms, exes, argvs = [], [], []
    for inv in invs:
        main = inv.get("mainjob") or {}
        u = main.get("usage") or {}
        for k in USAGE_SUM:
            usage[f"kickstart_usage_{k}"] += _num(u.get(k))
        maxrss = _num(u.get("maxrss")) if math.isnan(maxrss) else max(maxrss, _num(u.get("maxrss")))
        raw = (main.get("status") or {}).get("raw")
        if isinstance(raw, int) and (status is None or (status == 0 and raw != 0)):
            status = raw
        xforms.append(str(inv.get("transformation") or ""))
        exes.append(str((main.get("executable") or {}).get("file_name") or ""))
        argvs.append(" ".join(str(a) for a in (main.get("argument_vector") or [])))
        files = inv.get("files") or {}
        out.append(str((files.get("stdout") or {}).get("data") or ""))
        err.append(str((files.get("stderr") or {}).get("data") or ""))
    usage["kickstart_usage_maxrss"] = maxrss
    host = invs[0].get("hostname")
    return KickstartRecord(
        usage=usage,
        hostname=str(host) if host else None,
        status=status,
        stdout="".join(out),
        stderr="".join(err),
        transformation=",".join(dict.fromkeys(x for x in xforms if x)),
        executable=",".join(dict.fromkeys(x for x in exes if x)),
        argv=",".join(a for a in argvs if a),
        cpu_time=usage["kickstart_usage_utime"] + usage["kickstart_usage_stime"],
    )


def read_record(path: Path) -> KickstartRecord | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        return parse_record(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def record_files(directory: Path) -> dict[str, Path]:
    """job name -> its last try's record (``<job>.out.NNN``, highest NNN) under ``directory/*/*``."""
    found: dict[str, Path] = {}
    for f in sorted(directory.glob("*/*/*.out.[0-9][0-9][0-9]")):
        found[f.name[: -len(".out.000")]] = f  # sorted: the highest NNN comes last
    return found
