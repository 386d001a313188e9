"""Resumable triage output: rows are appended run by run; a sidecar file records each finished
run and the byte offset after it, so a killed triage resumes without duplicates or losses."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from flowsleuth.agent.triage_models import RunTriage, TriageRow

FIELDS = list(TriageRow.model_fields)


def encode(triage: RunTriage, fmt: str, header: bool) -> str:
    if fmt == "jsonl":
        return "".join(r.model_dump_json() + "\n" for r in triage.rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    if header:
        writer.writeheader()
    for r in triage.rows:
        writer.writerow(r.model_dump())
    return buf.getvalue()


class ResumableOutput:
    """Append-only output file plus ``<file>.progress.json``: finished runs -> jobs flagged."""

    def __init__(self, path: Path, fmt: str, restart: bool = False) -> None:
        self.path = path
        self.fmt = fmt
        self.progress_path = path.with_name(path.name + ".progress.json")
        self.done: dict[str, int] = {}
        offset = 0
        if not restart and self.progress_path.is_file() and path.is_file():
            state = json.loads(self.progress_path.read_text())
            if state.get("format") == fmt:
                self.done = {k: int(v) for k, v in state.get("runs", {}).items()}
                offset = int(state.get("offset", 0))
        # Drop whatever a killed run half-wrote after the last finished run.
        with open(path, "a+b") as fh:
            fh.truncate(offset)
        self.offset = offset

    def is_done(self, run_id: str) -> bool:
        return run_id in self.done

    def write(self, triage: RunTriage) -> None:
        data = encode(triage, self.fmt, header=self.offset == 0).encode()
        with open(self.path, "ab") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self.offset += len(data)
        self.done[triage.run] = triage.n_flagged
        tmp = self.progress_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"format": self.fmt, "offset": self.offset, "runs": self.done}))
        os.replace(tmp, self.progress_path)
