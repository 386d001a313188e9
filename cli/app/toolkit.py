"""The composition root: load what a home holds (models, index, registry, LLM) once per command,
and hand each run its typed services and dependencies.

Everything optional degrades to "not available" with a note, never an exception: a verdict
needs only one score source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flowsleuth.agent.deps import Deps
from flowsleuth.agent.llm import LLMBackend, LLMSettings, make_backend
from flowsleuth.cli.app.settings import Settings
from flowsleuth.retrieval import INDEX, JobIndex, default_embedder, open_index, select_few_shot
from flowsleuth.tools.classifier import SCORERS, Scorer, load_scorer
from flowsleuth.tools.classifier.artifact import read_meta
from flowsleuth.tools.decision.fusion import Fusion
from flowsleuth.tools.diagnosis import DIAGNOSIS_MODEL, DiagnosisModel
from flowsleuth.tools.generalist.tool import GENERALIST
from flowsleuth.tools.pretrained import pretrained_models_dir
from flowsleuth.tools.registry import Registry
from flowsleuth.workflows.baseline import BaselineProfile
from flowsleuth.workflows.contract import ServiceKey, Services, Subject
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run
from flowsleuth.workflows.sample import bundled_dag

if TYPE_CHECKING:
    from flowsleuth.tools.generalist.judge import GeneralistJudge

# Scorer directory under ``<home>/models`` -> the tool that reports it.
SCORER_TOOLS = {"tree": "tree_score", "sft": "sft_score"}
T = TypeVar("T")


@dataclass
class Toolkit:
    """What is loaded once and shared by every run of a command."""

    settings: Settings
    registry: Registry
    models: dict[str, Scorer] = field(default_factory=dict)
    index: JobIndex | None = None
    diagnosis: DiagnosisModel | None = None
    baseline: BaselineProfile | None = None
    fusion: Fusion = field(default_factory=Fusion)
    llm: LLMBackend | None = None
    notes: list[str] = field(default_factory=list)
    generalist: GeneralistJudge | None = None

    def services(self) -> Services:
        """The read-only services every tool of every run gets."""
        values: dict[ServiceKey[Any], object] = {SCORERS: dict(self.models)}
        if self.index is not None:
            values[INDEX] = self.index
        if self.diagnosis is not None:
            values[DIAGNOSIS_MODEL] = self.diagnosis
        if self.generalist is not None:
            values[GENERALIST] = self.generalist
        return Services(values)

    def subject(self, run: Run) -> Subject:
        return Subject(run, dag=bundled_dag(run.workflow), baseline=self.baseline, services=self.services())

    def few_shot(self, subject: Subject, k: int) -> list[dict[str, Any]]:
        """Compact labelled examples from other runs (the prompt's dynamic few-shot)."""
        keep = ("label", "distance", "run", "job", "transformation", "host", "text")
        examples = select_few_shot(self.index, subject, k=k) if self.index is not None else []
        return [e.model_dump(include=set(keep)) for e in examples]

    def warm(self, run: Run) -> None:
        """Load what scoring ``run`` needs and loads lazily (its workflow's SFT adapter), so no
        tool's time limit pays for it; a failure becomes a note (the tool then reports it)."""
        for_workflow = getattr(self.models.get("sft"), "for_workflow", None)
        if for_workflow is not None:
            _try(self.notes, "SFT model", lambda: for_workflow(run.workflow))

    def finish(self) -> None:
        """After the answer is out: cache what a lazy load found missing (an SFT export)."""
        export = getattr(self.models.get("sft"), "export_pending", None)
        if export is not None:
            export()

    def deps(self, run: Run, job_id: str | None = None) -> Deps:
        """The run's dependencies, its one scoring pass included (of ``job_id`` alone when
        given: ``why`` needs one job's verdict, triage every job's)."""
        return Deps.build(
            self.subject(run).for_job(job_id),
            self.registry,
            self.fusion,
            llm=self.llm,
            few_shot=self.few_shot if self.index is not None else None,
            max_steps=self.settings.max_steps,
            n_examples=self.settings.n_examples,
        )

    def deps_many(self, runs: Sequence[Run]) -> list[Deps]:
        """:meth:`deps` of each run (every job), scored as one batch: for many small runs."""
        return Deps.build_many(
            [self.subject(r) for r in runs],
            self.registry,
            self.fusion,
            llm=self.llm,
            few_shot=self.few_shot if self.index is not None else None,
            max_steps=self.settings.max_steps,
            n_examples=self.settings.n_examples,
        )


def _try(notes: list[str], what: str, fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except FlowsleuthError as err:
        notes.append(f"{what}: {err}")
    return None


def load_toolkit(
    settings: Settings, *, llm: bool = True, sft: bool = True, fast_sft: bool = False, one_job: bool = False
) -> Toolkit:
    """Load what ``settings.home`` holds. Missing pieces become notes, not errors; a home with
    no models at all uses the pretrained ones shipped in :mod:`tools.pretrained`. Without an
    SFT model of its own, the shipped SFT adapters score (the fusion uses them only where it
    was fitted with them); ``fast_sft`` runs SFT through ONNX Runtime int8 (for triage);
    ``one_job`` (``why``) loads an SFT adapter when its workflow is first scored, through its
    cached fp32 ONNX export (no torch import once the export is cached; :meth:`Toolkit.finish`
    caches a missing one)."""
    from flowsleuth.tools import registry  # looked up at call time (tests swap it)

    kit = Toolkit(
        settings=settings, registry=registry.default_registry(settings.plugins, settings.tool_timeout_s)
    )
    models_dir = _models_dir(kit.notes, settings.models_dir)
    loader = _lazy_sft_loader(kit) if one_job and not fast_sft else load_scorer
    failed = _load_models(kit, models_dir, sft, loader)
    shipped = pretrained_models_dir()
    if failed and shipped is not None and models_dir != shipped:
        # All or nothing, as in _models_dir: a fusion is fitted for one set of sources.
        kit.notes.append(
            f"{', '.join(failed)} under {models_dir} could not be loaded: "
            "using the pretrained models shipped with flowsleuth instead"
        )
        kit.models, kit.baseline, kit.fusion, kit.diagnosis = {}, None, Fusion(), None
        _load_models(kit, shipped, sft, loader)
    if sft and "sft" not in kit.models:
        _shipped_sft(kit, loader)
    if fast_sft and "sft" in kit.models:
        from flowsleuth.tools.classifier.sft_onnx import attach

        cache = settings.cache_path / "onnx"
        _try(kit.notes, "SFT ONNX export", lambda: attach(kit.models["sft"], cache, "int8", settings.threads))
    if settings.threshold is not None:
        kit.fusion = kit.fusion.with_threshold(settings.threshold)
    kit.generalist = _try(kit.notes, "generalist model", lambda: _load_generalist(settings))
    kit.index = _open_index(kit.notes, settings)
    if llm:
        kit.llm = _llm(kit.notes, settings)
    return kit


def _lazy_sft_loader(kit: Toolkit) -> Callable[[Path], Scorer]:
    """``load_scorer``, except that an SFT artifact becomes a :class:`LazySFT` (see load_toolkit)."""
    from flowsleuth.tools.classifier.sft_lazy import LazySFT

    def load(d: Path) -> Scorer:
        if (d / "adapters.json").is_file() or read_meta(d).kind == "sft":
            cache = kit.settings.cache_path / "onnx"
            return LazySFT(d, cache, threads=kit.settings.threads, notes=kit.notes)
        return load_scorer(d)

    return load


def _load_models(
    kit: Toolkit, models_dir: Path, sft: bool, loader: Callable[[Path], Scorer] = load_scorer
) -> list[str]:
    """Load scorers, baseline, fusion and diagnosis from ``models_dir``; the names that failed."""
    failed: list[str] = []
    for name in SCORER_TOOLS:
        if name == "sft" and not sft:
            continue
        d = models_dir / name
        if d.is_dir():
            load = loader if name == "sft" else load_scorer
            scorer = _try(kit.notes, f"{name} model", lambda d=d, load=load: load(d))  # type: ignore[misc]
            if scorer is None:
                failed.append(f"{name} model")
            else:
                kit.models[name] = _with_variants(scorer) if name == "tree" else scorer
    if (models_dir / "baseline.json").is_file():
        kit.baseline = _try(kit.notes, "baseline", lambda: BaselineProfile.load(models_dir / "baseline.json"))
    if (models_dir / "fusion.json").is_file():
        kit.fusion = _try(kit.notes, "fusion", lambda: Fusion.load(models_dir / "fusion.json")) or Fusion()
    diagnosis = models_dir / "diagnosis"
    if diagnosis.is_dir():
        kit.diagnosis = _try(kit.notes, "diagnosis model", lambda: DiagnosisModel.load(diagnosis))
        if kit.diagnosis is None:
            failed.append("diagnosis model")
    return failed


def _shipped_sft(kit: Toolkit, loader: Callable[[Path], Scorer] = load_scorer) -> None:
    """The SFT adapters shipped with flowsleuth (one per known workflow plus a general one).
    They may join any home's models: a fusion fitted without SFT leaves it out."""
    from flowsleuth.tools.pretrained import pretrained_adapters_dir

    d = pretrained_adapters_dir()
    if d is not None:
        scorer = _try(kit.notes, "shipped SFT adapters", lambda: loader(d))
        if scorer is not None:
            kit.models["sft"] = scorer


def _llm(notes: list[str], settings: Settings) -> LLMBackend | None:
    """The configured backend behind one deadline per explanation and a circuit breaker."""
    from flowsleuth.agent.llm.breaker import GuardedLLM

    backend = _try(notes, "LLM", lambda: make_backend(llm_settings(settings)))
    return None if backend is None else GuardedLLM(backend, deadline_s=settings.llm_timeout_s)


def _with_variants(tree: Scorer) -> Scorer:
    """The tree scorer plus the shipped portable-feature models, for inputs (a stampede DB) that
    lack Flow-Bench's stage-in/out and kickstart_online_* columns."""
    from flowsleuth.tools.classifier.portable import VariantScorer, load_variants
    from flowsleuth.tools.pretrained import portable_models_dir

    shipped = portable_models_dir()
    variants = load_variants(shipped) if shipped is not None else {}
    return VariantScorer(tree, variants) if variants else tree


def llm_settings(settings: Settings) -> LLMSettings:
    """The LLM backend's own settings, taken as resolved (no second precedence here)."""
    return LLMSettings(
        backend=settings.backend,
        base_url=settings.base_url,
        model=settings.model,
        api_key_env=settings.api_key_env,
        timeout_s=settings.llm_timeout_s,
        tools=settings.llm_tools,
        plugins=settings.plugins,
        threads=settings.threads,
        int8=settings.llm_int8,
        compact=settings.llm_compact,
        cache_dir=settings.cache_path,
        # room for both capped Narrative fields to close their JSON on a server
        max_tokens=512 if settings.backend == "openai" else LLMSettings.model_fields["max_tokens"].default,
    )


def _models_dir(notes: list[str], home_models: Path) -> Path:
    """``home_models``, or the pretrained models shipped with flowsleuth when the home has no
    model at all (so triage works out of the box). All or nothing: a fusion is fitted for one
    set of sources, so the home's own models are never mixed with shipped ones."""
    own = [home_models / n for n in (*SCORER_TOOLS, "diagnosis")]
    shipped = pretrained_models_dir()
    if any(d.is_dir() for d in own) or shipped is None:
        return home_models
    notes.append(f"no models under {home_models}: using the pretrained models shipped with flowsleuth")
    return shipped


def _load_generalist(settings: Settings) -> GeneralistJudge | None:
    from flowsleuth.tools.generalist.judge import load_judge

    return load_judge(settings.home)


def _open_index(notes: list[str], settings: Settings) -> JobIndex | None:
    """The Chroma server at ``chroma_url`` when set, else the embedded index of the home."""
    embedder = default_embedder(settings.cache_path)  # lazy: loads on the first text embedded
    if settings.chroma_url is not None:
        return _try(notes, "index", lambda: open_index(chroma_url=settings.chroma_url, embedder=embedder))
    if not settings.index_path.is_dir():
        notes.append(
            f"no job index at {settings.index_path} yet (flowsleuth index build): "
            "no few-shot examples or kNN vote"
        )
        return None
    return _try(notes, "index", lambda: open_index(settings.index_path, embedder=embedder))
