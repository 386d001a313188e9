"""One eval case, a folder ``evals/<name>/``: ``case.json`` (the job, what is expected) and
``results.json`` (every tool result recorded from a real run, so the case runs without models)."""

from __future__ import annotations

import json
from pathlib import Path

from flowsleuth.workflows.contract import ToolResult
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.loader import load_run
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.readers import open_run
from flowsleuth.workflows.sample import RUNS_DIR
from pydantic import BaseModel, Field, ValidationError

SAMPLE_PREFIX = "sample:"


class Fact(BaseModel):
    """A fact the explanation's prose should state: any one of ``any`` (case-insensitive)."""

    fact: str
    any: list[str] = Field(min_length=1)


class Forbidden(BaseModel):
    """A claim the prose must not make: ``pattern`` is a case-insensitive regex."""

    claim: str
    pattern: str


class Expected(BaseModel):
    is_anomalous: bool
    anomaly_class: str = Field(description="the ground-truth label: 'None', 'cpu_3', 'hdd_5'...")


class RecordedResult(BaseModel):
    kind: str = Field(description="the registry kind the tool runs under: score, hint, ...")
    result: ToolResult


class EvalCase(BaseModel):
    name: str
    run: str = Field(
        description="'sample:<folder>/<run>.csv' (bundled), a CSV in the case folder, or a Pegasus submit "
        "directory or stampede DB in the repository, as a path relative to the case folder"
    )
    job_id: str
    workflow: str
    expected: Expected
    tags: list[str] = Field(default_factory=list, description="clear/borderline, class, situation")
    must_mention: list[Fact] = Field(default_factory=list)
    must_not_claim: list[Forbidden] = Field(default_factory=list)
    folder: Path | None = Field(default=None, exclude=True)

    def load_run(self) -> Run:
        if self.run.startswith(SAMPLE_PREFIX):
            return load_run(RUNS_DIR / self.run.removeprefix(SAMPLE_PREFIX))
        if self.folder is None:
            raise FlowsleuthError(f"eval case {self.name}: no folder for {self.run}")
        source = self.folder / self.run
        if source.suffix == ".csv":
            return load_run(source)
        return open_run(source, job_id=self.job_id)  # a Pegasus run, through the reader seam

    def results(self) -> list[RecordedResult]:
        if self.folder is None:
            return []
        raw = json.loads((self.folder / "results.json").read_text(encoding="utf-8"))
        return [RecordedResult.model_validate(r) for r in raw]


def save_case(case: EvalCase, results: list[RecordedResult], root: Path) -> Path:
    folder = root / case.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "case.json").write_text(case.model_dump_json(indent=1) + "\n", encoding="utf-8")
    dumped = [r.model_dump(mode="json") for r in results]
    (folder / "results.json").write_text(json.dumps(dumped, indent=1) + "\n", encoding="utf-8")
    return folder


def load_cases(root: Path, pattern: str = "*") -> list[EvalCase]:
    """Every case under ``root`` whose folder name matches ``pattern`` (a glob), by name."""
    cases = []
    for path in sorted(root.glob(f"{pattern}/case.json")):
        try:
            case = EvalCase.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as err:
            raise FlowsleuthError(f"{path}: not an eval case ({str(err).splitlines()[0]})") from None
        cases.append(case.model_copy(update={"folder": path.parent}))
    if not cases:
        raise FlowsleuthError(f"no eval cases match {root}/{pattern}")
    return cases
