"""Each job's recorded life (JobStatus columns), as pegasus-analyzer reads it.

pegasus-analyzer reads the last try of each job (highest ``job_submit_seq``): exit code 0 is
succeeded, any other exit code failed; held means the last try has a ``JOB_HELD`` state; every
other job (never submitted, or still running) counts as unsubmitted. We count the same way.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import numpy as np
import pandas as pd
from flowsleuth.workflows.jobstatus import STATUS_COLUMNS

TAIL_LINES = 15
TAIL_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def regular_exits(raw: pd.Series) -> pd.Series:
    """:func:`regular_exit` over a column (NaN stays NaN)."""
    r = pd.to_numeric(raw, errors="coerce").astype(float)
    known: np.ndarray = np.asarray(r.fillna(0).to_numpy(), dtype=np.int64)
    sig = known & 127
    out = np.where(known < 0, -128, np.where(sig > 0, -sig, known >> 8)).astype(float)
    return pd.Series(np.where(r.isna(), np.nan, out), index=raw.index)


def regular_exit(raw: float | int | None) -> int | None:
    """Pegasus's ``raw_to_regular``: exit status -> code; a signal -> its negative number."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return None
    raw = int(raw)
    if raw < 0:
        return -128  # a failure to run at all
    if raw & 127:
        return -(raw & 127)
    return raw >> 8


def tail(text: object, *, quoted: bool = False) -> str:
    """The last lines of an output text, control characters removed (the text is data)."""
    if not isinstance(text, str) or not text:
        return ""
    if quoted:
        text = unquote(text)
    lines = text.strip("\n").splitlines()[-TAIL_LINES:]
    return _CONTROL.sub("", "\n".join(lines))[-TAIL_CHARS:]


def outcome(exitcode: pd.Series, tries: pd.Series) -> pd.Series:
    tried = tries.fillna(0) > 0
    return pd.Series(
        np.select(
            [~tried, exitcode.isna(), exitcode == 0],
            ["unsubmitted", "running", "succeeded"],
            default="failed",
        ),
        index=exitcode.index,
    )


def status_frame(jobs: pd.DataFrame, exit_codes: pd.Series, ks_status: pd.Series) -> pd.DataFrame:
    """JobStatus columns per node id. ``jobs`` is indexed by node id and carries ``exitcode``
    (raw, of the try), ``tries``, ``state``, ``held_at``, texts and ``type_desc``."""
    out = pd.DataFrame(index=jobs.index)
    out["outcome"] = outcome(jobs["exitcode"], jobs["tries"])
    out["state"] = jobs["state"].astype(object).where(jobs["state"].notna(), None)
    out["exit_code"] = _ints(exit_codes)
    out["retries"] = (jobs["tries"].fillna(1).clip(lower=1) - 1).astype(int)
    out["held"] = jobs["held_at"].notna()
    reasons = jobs["held_reason"] if "held_reason" in jobs.columns else pd.Series(None, index=jobs.index)
    out["held_reason"] = pd.Series(None, index=jobs.index, dtype=object)
    has = reasons.map(lambda r: isinstance(r, str)) if reasons.notna().any() else reasons.notna()
    if has.any():
        out.loc[has, "held_reason"] = reasons[has].map(lambda r: tail(r) or None)
    out["kickstart_status"] = _ints(ks_status)
    out["stdout_tail"] = jobs.get("stdout_tail", pd.Series("", index=jobs.index)).fillna("")
    out["stderr_tail"] = jobs.get("stderr_tail", pd.Series("", index=jobs.index)).fillna("")
    out["pegasus_type"] = jobs["type_desc"].fillna("").astype(str)
    return out.loc[:, list(STATUS_COLUMNS)]


def _ints(values: pd.Series) -> pd.Series:
    """Whole numbers as Python ints, missing as None (object column): vectorised, no per-row loop."""
    v = pd.to_numeric(values, errors="coerce").astype("Int64")
    return v.astype(object).where(v.notna(), None)
