"""Assemble an investigation's dependencies from settings: models, index, registry, LLM.

Everything optional degrades to "not available" with a note, never an exception: a verdict
needs only one score source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowsleuth.agent.deps import Deps
from flowsleuth.cli.app.settings import Settings
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.contract import Subject
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import bundled_dag

# Scorer directory under ``<home>/models`` -> the tool that reports it.
SCORER_TOOLS = {"tree": "tree_score", "sft": "sft_score"}


@dataclass
class Toolkit:
    """What is loaded once and shared by every run of a command."""

    settings: Settings
    models: dict[str, Any] = field(default_factory=dict)
    index: Any | None = None
    diagnosis: Any | None = None
    baseline: BaselineProfile | None = None
    fusion: Fusion = field(default_factory=Fusion)
    registry: Any | None = None
    llm: Any | None = None
    notes: list[str] = field(default_factory=list)
    generalist: Any | None = None  # agent.tiers.GeneralistJudge

    def tier_notes(self, run: Run) -> list[str]:
        """What the verdicts on ``run`` lack (e.g. a workflow with no history yet)."""
        from flowsleuth.agent.tiers import uses_generalist

        if uses_generalist(self.fusion, self.generalist, run.workflow):
            return list(self.generalist.judge(run).notes)  # type: ignore[union-attr]
        return []

    def fusion_for(self, run: Run) -> Fusion:
        """The workflow's own fusion, or the generalist's for a workflow without one."""
        from flowsleuth.agent.tiers import generalist_fusion, uses_generalist

        if uses_generalist(self.fusion, self.generalist, run.workflow):
            return generalist_fusion(self.generalist.judge(run).threshold)  # type: ignore[union-attr]
        return self.fusion.for_workflow(run.workflow)

    def subject(self, run: Run) -> Subject:
        extras: dict[str, Any] = {"models": self.models}
        if self.index is not None:
            extras["index"] = self.index
        if self.diagnosis is not None:
            extras["diagnosis_model"] = self.diagnosis
        if self.generalist is not None:
            extras["generalist"] = self.generalist
        return Subject(run, dag=bundled_dag(run.workflow), baseline=self.baseline, extras=extras)

    def few_shot(self, subject: Subject, k: int) -> list[dict[str, Any]]:
        """Compact labelled examples from other runs (the prompt's dynamic few-shot)."""
        from flowsleuth.retrieval import select_few_shot

        keep = ("label", "distance", "run", "job", "transformation", "host", "text")
        examples = select_few_shot(self.index, subject, k=k) if self.index is not None else []
        return [e.model_dump(include=set(keep)) for e in examples]

    def deps(self, run: Run) -> Deps:
        if self.registry is None:
            raise FlowsleuthError("internal: toolkit has no tool registry (use load_toolkit)")
        return Deps(
            subject=self.subject(run),
            registry=self.registry,
            llm=self.llm,
            fusion=self.fusion_for(run),
            few_shot=self.few_shot if self.index is not None else None,
            max_steps=self.settings.max_steps,
            n_examples=self.settings.n_examples,
        )


def _try(notes: list[str], what: str, fn: Any) -> Any:
    try:
        return fn()
    except FlowsleuthError as err:
        notes.append(f"{what}: {err}")
    return None


def load_toolkit(
    settings: Settings, *, llm: bool = True, sft: bool = True, fast_sft: bool = False
) -> Toolkit:
    """Load what ``settings.home`` holds. Missing pieces become notes, not errors; a home with
    no models at all uses the pretrained ones shipped in :mod:`tools.pretrained`. Without an
    SFT model of its own, the shipped SFT adapters score (the fusion uses them only where it
    was fitted with them); ``fast_sft`` runs SFT through ONNX Runtime int8 (for triage)."""
    from flowsleuth.retrieval import knn_vote
    from flowsleuth.tools.pretrained import pretrained_models_dir
    from flowsleuth.tools.registry import default_registry

    kit = Toolkit(settings=settings)
    models_dir = _models_dir(kit.notes, settings.models_dir)
    failed = _load_models(kit, models_dir, sft)
    shipped = pretrained_models_dir()
    if failed and shipped is not None and models_dir != shipped:
        # All or nothing, as in _models_dir: a fusion is fitted for one set of sources.
        kit.notes.append(
            f"{', '.join(failed)} under {models_dir} could not be loaded: "
            "using the pretrained models shipped with flowsleuth instead"
        )
        kit.models, kit.baseline, kit.fusion, kit.diagnosis = {}, None, Fusion(), None
        _load_models(kit, shipped, sft)
    if sft and "sft" not in kit.models:
        _shipped_sft(kit)
    if fast_sft and "sft" in kit.models:
        from flowsleuth.tools.classifier.sft_onnx import attach

        cache = settings.home / "cache" / "onnx"
        _try(kit.notes, "SFT ONNX export", lambda: attach(kit.models["sft"], cache, "int8"))
    if settings.threshold is not None:
        kit.fusion = kit.fusion.with_threshold(settings.threshold)
    kit.generalist = _try(kit.notes, "generalist model", lambda: _load_generalist(settings))
    kit.index = _open_index(kit.notes, settings)
    kit.registry = default_registry(timeout_s=settings.tool_timeout_s)
    kit.registry.register(knn_vote, name="knn_vote", source="builtin", kind="retrieval")
    if llm:
        kit.llm = _llm(kit.notes, settings)
    return kit


def _load_models(kit: Toolkit, models_dir: Path, sft: bool) -> list[str]:
    """Load scorers, baseline, fusion and diagnosis from ``models_dir``; the names that failed."""
    from flowsleuth.tools.classifier import load_scorer

    failed: list[str] = []
    for name in SCORER_TOOLS:
        if name == "sft" and not sft:
            continue
        d = models_dir / name
        if d.is_dir():
            scorer = _try(kit.notes, f"{name} model", lambda d=d: load_scorer(d))
            if scorer is None:
                failed.append(f"{name} model")
            else:
                kit.models[name] = scorer
    if (models_dir / "baseline.json").is_file():
        kit.baseline = _try(kit.notes, "baseline", lambda: BaselineProfile.load(models_dir / "baseline.json"))
    if (models_dir / "fusion.json").is_file():
        kit.fusion = _try(kit.notes, "fusion", lambda: Fusion.load(models_dir / "fusion.json")) or Fusion()
    kit.diagnosis = _load_diagnosis(kit.notes, models_dir / "diagnosis")
    if (models_dir / "diagnosis").is_dir() and kit.diagnosis is None:
        failed.append("diagnosis model")
    return failed


def _shipped_sft(kit: Toolkit) -> None:
    """The SFT adapters shipped with flowsleuth (one per known workflow plus a general one).
    They may join any home's models: a fusion fitted without SFT leaves it out."""
    from flowsleuth.tools.classifier import load_scorer
    from flowsleuth.tools.pretrained import pretrained_adapters_dir

    d = pretrained_adapters_dir()
    if d is not None:
        scorer = _try(kit.notes, "shipped SFT adapters", lambda: load_scorer(d))
        if scorer is not None:
            kit.models["sft"] = scorer


def _models_dir(notes: list[str], home_models: Path) -> Path:
    """``home_models``, or the pretrained models shipped with flowsleuth when the home has no
    model at all (so triage works out of the box). All or nothing: a fusion is fitted for one
    set of sources, so the home's own models are never mixed with shipped ones."""
    from flowsleuth.tools.pretrained import pretrained_models_dir

    own = [home_models / n for n in (*SCORER_TOOLS, "diagnosis")]
    shipped = pretrained_models_dir()
    if any(d.is_dir() for d in own) or shipped is None:
        return home_models
    notes.append(f"no models under {home_models}: using the pretrained models shipped with flowsleuth")
    return shipped


def _load_generalist(settings: Settings) -> Any | None:
    from flowsleuth.agent.tiers import load_judge

    return load_judge(settings.home, None)


def _load_diagnosis(notes: list[str], path: Path) -> Any | None:
    from flowsleuth.tools.diagnosis import DiagnosisModel

    if not path.is_dir():
        return None
    return _try(notes, "diagnosis model", lambda: DiagnosisModel.load(path))


def _open_index(notes: list[str], settings: Settings) -> Any | None:
    from flowsleuth.retrieval import open_index

    if settings.chroma_url is None and not settings.index_dir.is_dir():
        notes.append("no job index yet (flowsleuth index build): no few-shot examples or kNN vote")
        return None
    # A server URL wins over the home's index directory; open_index takes exactly one.
    index_dir = None if settings.chroma_url else settings.index_dir
    return _try(notes, "index", lambda: open_index(index_dir, settings.chroma_url))


def _llm(notes: list[str], settings: Settings) -> Any | None:
    from flowsleuth.agent.llm import LLMSettings, make_backend
    from flowsleuth.agent.llm.breaker import GuardedLLM

    # LLMSettings maps None (not configured) to its own defaults.
    values: dict[str, Any] = {
        "backend": settings.backend,
        "base_url": settings.base_url,
        "model": settings.model,
        "api_key_env": settings.api_key_env,
        "timeout_s": settings.llm_timeout_s,
        "tools": settings.llm_tools,
    }
    if settings.backend == "openai":
        values["max_tokens"] = 512  # room for both capped Narrative fields to close their JSON
    cfg = LLMSettings.model_validate(values)
    backend = _try(notes, "LLM", lambda: make_backend(cfg))
    return None if backend is None else GuardedLLM(backend, deadline_s=settings.llm_timeout_s)
