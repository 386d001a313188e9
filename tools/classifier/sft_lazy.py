"""An SFT artifact (an adapter set or one model) whose adapters load on first use, each through
its cached fp32 ONNX export when there is one: scoring one job of one workflow (``why``) reads
one export and imports neither torch nor peft. Without a usable export the adapter loads with
PyTorch and scores as before; :meth:`LazySFT.export_pending` then caches its export for the
next process (``why`` calls it after printing the verdict, so the user does not wait for it).
"""

from __future__ import annotations

import threading
from pathlib import Path

from flowsleuth.tools.classifier.artifact import ArtifactError, ArtifactMeta, read_meta
from flowsleuth.tools.classifier.sft import SFTScorer
from flowsleuth.tools.classifier.sft_cache import (
    NO_EXPORT,
    CacheError,
    artifact_key,
    build,
    open_cached,
    tokenizer_file,
)
from flowsleuth.tools.classifier.sft_set import PerWorkflow, SetIndex, is_adapter_set, read_set

_SINGLE = "model"  # the one adapter name of an artifact that is not a set


def _max_length(meta: ArtifactMeta) -> int:
    return int(meta.params.get("max_length", 128))


class LazySFT(PerWorkflow):
    """A :class:`~tools.classifier.scorer.Scorer` like :class:`~tools.classifier.sft_set.AdapterSet`
    (or one SFTScorer), loading each adapter when a run of its workflow is first scored.
    ``notes`` receives what the user should know (a cache rebuilt, an export that failed)."""

    kind = "sft"

    def __init__(self, directory: str | Path, cache_dir: Path, *, threads: int = 1, notes: list[str]):
        self.directory = Path(directory)
        if is_adapter_set(self.directory):
            self.index, self.metas = read_set(self.directory)
            self._dirs = {n: self.directory / n for n in self.metas}
            self.name = "sft-lora"
        else:
            meta = read_meta(self.directory)
            if meta.kind != "sft":
                raise ArtifactError(f"{self.directory}: a {meta.kind} model, but an sft model was asked for")
            self.index = SetIndex(workflows={}, fallback=_SINGLE)
            self.metas = {_SINGLE: meta}
            self._dirs = {_SINGLE: self.directory}
            self.name = meta.name
        for name, d in self._dirs.items():  # what loading would check first; the weights load later
            weights = d / ("adapter/adapter_config.json" if "adapter" in self.metas[name].params else "model")
            if not weights.exists():
                raise ArtifactError(f"{d}: SFT weights {weights.relative_to(d)} missing")
        fallback = self.index.fallback
        self.meta: ArtifactMeta = (
            self.metas[fallback] if fallback in self.metas else next(iter(self.metas.values()))
        )
        self.cache_dir, self.threads, self.notes = cache_dir, threads, notes
        self.loaded: dict[str, SFTScorer] = {}
        self.pending: dict[str, str] = {}  # adapter name -> cache key, scored by PyTorch
        self._lock = threading.Lock()

    def for_workflow(self, workflow: str) -> SFTScorer | None:
        """The scorer of ``workflow``'s adapter (its own, else the fallback), loaded on first use."""
        name = self.index.workflows.get(workflow, self.index.fallback)
        if name is None or name not in self.metas:
            return None
        with self._lock:
            if name not in self.loaded:
                self.loaded[name] = self._load(name)
            return self.loaded[name]

    def _load(self, name: str) -> SFTScorer:
        d, meta = self._dirs[name], self.metas[name]
        key = artifact_key(d, meta)
        try:
            enc = open_cached(self.cache_dir, key, tokenizer_file(d, meta), _max_length(meta), self.threads)
            return self._onnx(meta, enc, name if name != _SINGLE else None)
        except CacheError as err:
            if str(err) != NO_EXPORT:
                self.notes.append(f"SFT export cache of {meta.name}: {err}; scoring with PyTorch")
        self.pending[name] = key
        return self._torch(d, meta, name if name != _SINGLE else None)

    def export_pending(self) -> None:
        """Cache the ONNX export of each adapter that scored through PyTorch (a failure is a note)."""
        with self._lock:
            pending, self.pending = self.pending, {}
        for name, key in pending.items():
            meta = self.metas[name]
            try:
                with self._lock:  # build merges the torch model: the next use loads the export
                    scorer = self.loaded.pop(name)
                build(scorer, self.cache_dir, key)
            except (OSError, ValueError, RuntimeError) as err:
                self.notes.append(
                    f"SFT export of {meta.name} not cached ({err}); the next run uses PyTorch too"
                )

    @staticmethod
    def _onnx(meta: ArtifactMeta, enc: object, adapter_name: str | None) -> SFTScorer:
        scorer = SFTScorer(None, enc.tokenizer, meta, adapter_name=adapter_name)  # type: ignore[attr-defined]
        scorer.runtime = enc
        return scorer

    @staticmethod
    def _torch(d: Path, meta: ArtifactMeta, adapter_name: str | None) -> SFTScorer:
        if adapter_name is None:
            return SFTScorer.load(d, meta)
        from flowsleuth.tools.classifier.sft_adapter import backbone_path, load_adapter
        from transformers import AutoTokenizer

        model = load_adapter(d, meta, name=adapter_name).eval()
        return SFTScorer(
            model, AutoTokenizer.from_pretrained(backbone_path(meta.backbone)), meta, adapter_name
        )

    def save(self, directory: str | Path) -> Path:
        raise ArtifactError("a lazily loaded SFT model is read-only: save the one load_scorer returns")
