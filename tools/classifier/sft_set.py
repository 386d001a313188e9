"""Several LoRA adapters on one backbone, chosen per workflow when a run is scored.

One adapter per known workflow plus a ``general`` one for workflows no adapter was trained on.
Each adapter keeps its own weights, head and calibration, so adding or retraining one workflow's
adapter cannot change another workflow's scores: forgetting is zero by construction.

Layout of a set directory: ``adapters.json`` (workflow -> adapter, the fallback) and one
ordinary SFT adapter artifact per adapter (``<name>/meta.json``, ``<name>/adapter/``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from flowsleuth.tools.classifier.artifact import ArtifactError, ArtifactMeta, read_meta
from flowsleuth.tools.classifier.scorer import empty_scores
from flowsleuth.tools.classifier.sft import SFTScorer
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run
from pydantic import BaseModel, Field

SET_FILE = "adapters.json"
GENERAL = "general"


class SetIndex(BaseModel):
    """``adapters.json``: which adapter scores which workflow."""

    workflows: dict[str, str] = Field(description="workflow name -> adapter folder")
    fallback: str | None = Field(default=GENERAL, description="adapter for any other workflow")


def is_adapter_set(directory: str | Path) -> bool:
    return (Path(directory) / SET_FILE).is_file()


class PerWorkflow:
    """Scores each run with the adapter :meth:`for_workflow` picks for its workflow."""

    def for_workflow(self, workflow: str) -> SFTScorer | None:
        raise NotImplementedError

    def _scorer(self, run: Run) -> SFTScorer:
        scorer = self.for_workflow(run.workflow)
        if scorer is None:
            raise FlowsleuthError(
                f"no SFT adapter for workflow {run.workflow!r} and no general adapter; "
                "train one with `flowsleuth train --scorer sft --adapter`"
            )
        return scorer

    def score_runs(self, runs: Sequence[Run]) -> pd.DataFrame:
        """Score each run with its workflow's adapter (see :class:`Scorer`)."""
        frames = [self._scorer(run).score_runs([run]) for run in runs if len(run)]
        return pd.concat(frames) if frames else empty_scores()

    def score_jobs(self, run: Run, job_ids: Sequence[str]) -> pd.DataFrame:
        """Score only ``job_ids`` of ``run`` with its workflow's adapter."""
        return self._scorer(run).score_jobs(run, job_ids)

    def missing_inputs(self, run: Run, job_ids: Sequence[str]) -> dict[str, list[str]]:
        """The input values ``run``'s adapter reads that the run lacks, per job."""
        return self._scorer(run).missing_inputs(run, job_ids)


class AdapterSet(PerWorkflow):
    """A :class:`~tools.classifier.scorer.Scorer` over per-workflow adapters sharing one backbone."""

    kind = "sft"

    def __init__(self, adapters: dict[str, SFTScorer], index: SetIndex):
        if not adapters:
            raise ArtifactError("an adapter set needs at least one adapter")
        self.adapters = adapters
        self.index = index
        first = adapters[index.fallback] if index.fallback in adapters else next(iter(adapters.values()))
        self.meta: ArtifactMeta = first.meta
        self.name = "sft-lora"

    @classmethod
    def of(cls, scorers: dict[str, SFTScorer], fallback: str | None = GENERAL) -> AdapterSet:
        """A set from separately trained adapter scorers (name -> scorer); names are workflows,
        except ``fallback``."""
        workflows = {n: n for n in scorers if n != fallback}
        return cls(scorers, SetIndex(workflows=workflows, fallback=fallback if fallback in scorers else None))

    def for_workflow(self, workflow: str) -> SFTScorer | None:
        """The adapter that scores ``workflow``: its own, else the fallback, else None."""
        name = self.index.workflows.get(workflow, self.index.fallback)
        return self.adapters.get(name) if name is not None else None

    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for name, scorer in self.adapters.items():
            scorer.save(d / name)
        (d / SET_FILE).write_text(self.index.model_dump_json(indent=1))
        return d

    @classmethod
    def load(cls, directory: str | Path) -> AdapterSet:
        """Load every adapter of the set onto one copy of the backbone."""
        from flowsleuth.tools.classifier.sft_adapter import backbone_path, load_adapter
        from transformers import AutoTokenizer

        d = Path(directory)
        index, metas = read_set(d)
        names = list(metas)
        model = None
        for n in names:
            model = load_adapter(d / n, metas[n], base=model, name=n)
        model.eval()  # type: ignore[union-attr]
        tok = AutoTokenizer.from_pretrained(backbone_path(metas[names[0]].backbone))
        lock = threading.RLock()  # one active adapter per forward pass; tools may run in threads
        adapters = {n: SFTScorer(model, tok, metas[n], adapter_name=n, lock=lock) for n in names}
        return cls(adapters, index)


def read_set(directory: Path) -> tuple[SetIndex, dict[str, ArtifactMeta]]:
    """A set's index and its adapters' metadata (sorted by name), checked to be adapters on one
    backbone with one label map; reads no weights."""
    try:
        index = SetIndex.model_validate(json.loads((directory / SET_FILE).read_text()))
    except (OSError, ValueError) as err:
        raise ArtifactError(f"{directory / SET_FILE}: unreadable ({str(err).splitlines()[0]})") from None
    names = sorted({*index.workflows.values(), *([index.fallback] if index.fallback else [])})
    if not names:
        raise ArtifactError(f"{directory / SET_FILE}: names no adapter")
    metas = {n: read_meta(directory / n) for n in names}
    base_meta = metas[names[0]]
    for n, m in metas.items():
        if "adapter" not in m.params:
            raise ArtifactError(f"{directory / n}: not a LoRA adapter (a set holds adapters only)")
        if (m.backbone, m.labels) != (base_meta.backbone, base_meta.labels):
            raise ArtifactError(f"{directory / n}: backbone or label map differs from {names[0]}'s")
    return index, metas
