"""The fine-tuning loop behind :meth:`SFTScorer.fit` (transformers' ``Trainer``), and batched
prediction.

Tokenises once, pads per batch, evaluates validation ROC-AUC every ``eval_every`` steps, keeps
the best checkpoint and stops after ``patience`` evaluations without improvement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Balance = Literal["weights", "oversample", "none"]
Device = Literal["auto", "cpu", "cuda"]


@dataclass
class TrainConfig:
    epochs: float = 1.0
    batch_size: int = 16
    lr: float = 5e-5
    max_length: int = 256  # enriched sentences run to ~180 MiniLM tokens; batches pad to their longest
    balance: Balance = "weights"
    seed: int = 42
    patience: int = 3
    eval_every: int | None = None  # steps; default a quarter epoch
    head_only: bool = False
    progress: bool = True
    device: Device = "auto"  # auto = CUDA when torch sees a GPU, else CPU
    group_by_length: bool = False  # length-bucketed training batches (less padding)
    threads: int = 1  # torch intra-op threads


def torch_threads(n: int = 1) -> int:
    """Torch intra-op threads (the CLI's ``Settings.threads``; 1 by default: on a shared 2-core
    box, two OpenMP threads made a training step 4-8x slower than one)."""
    import torch

    n = max(1, n)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def resolve_device(device: Device) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        from flowsleuth.workflows.errors import FlowsleuthError

        raise FlowsleuthError("device 'cuda' asked for, but torch sees no GPU; use --device cpu")
    return device


def _autocast(device: str) -> Any:
    """bf16 autocast on CUDA (MiniLM trains fine in it); a no-op context on CPU."""
    import contextlib

    import torch

    return torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else contextlib.nullcontext()


def predict_logits(
    model: Any, tokenizer: Any, texts: Sequence[str], max_length: int, batch_size: int = 64, threads: int = 1
) -> np.ndarray:
    """Logits for ``texts`` in their order; batches are length-sorted to pad little."""
    import torch

    torch_threads(threads)
    n_labels = int(model.config.num_labels)
    if len(texts) == 0:
        return np.zeros((0, n_labels))
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)
    ids = enc["input_ids"]
    order = np.argsort([len(x) for x in ids], kind="stable")
    out = np.zeros((len(texts), n_labels))
    device = str(next(model.parameters()).device.type)
    model.eval()
    with torch.inference_mode(), _autocast(device):
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            batch = tokenizer.pad([{k: enc[k][i] for k in enc} for i in idx], return_tensors="pt")
            out[idx] = model(**batch.to(device)).logits.float().cpu().numpy()
    return out


def _auc(y: np.ndarray, logits: np.ndarray) -> float:
    from flowsleuth.tools.classifier.calibration import softmax
    from sklearn.metrics import roc_auc_score

    if y.min() == y.max():
        return -float(np.mean(np.log(np.clip(softmax(logits)[np.arange(len(y)), y], 1e-9, 1))))
    return float(roc_auc_score(y != 0, 1 - softmax(logits)[:, 0]))


def train_loop(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    y: np.ndarray,
    val_texts: Sequence[str],
    y_val: np.ndarray,
    cfg: TrainConfig,
) -> dict[str, Any]:
    """Fine-tune ``model`` in place with transformers' ``Trainer``: validation ROC-AUC every
    ``eval_every`` steps, ``EarlyStoppingCallback`` after ``patience`` evaluations without
    improvement, and the best checkpoint reloaded at the end. Returns a log (steps, evaluations,
    best step)."""
    import tempfile

    import torch
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch_threads(cfg.threads)
    device = resolve_device(cfg.device)
    n_cls = int(model.config.num_labels)
    counts = np.bincount(y, minlength=n_cls).astype(float)
    train_idx = np.arange(len(y))
    if cfg.balance == "oversample":  # minority rows drawn with replacement, one epoch's worth
        p = (1.0 / np.maximum(counts, 1))[y]
        train_idx = np.random.default_rng(cfg.seed).choice(len(y), len(y), p=p / p.sum())
    weight = None
    if cfg.balance == "weights":
        weight = torch.tensor(len(y) / (n_cls * np.maximum(counts, 1)), dtype=torch.float32)
    if cfg.head_only:
        for p in model.base_model.parameters():
            p.requires_grad = False
    per_epoch = max(1, int(np.ceil(len(y) / cfg.batch_size)))
    total = max(1, round(per_epoch * cfg.epochs))
    eval_every = cfg.eval_every or max(1, per_epoch // 4)

    def loss_fn(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
        w = None if weight is None else weight.to(outputs.logits.device)
        return torch.nn.functional.cross_entropy(outputs.logits.float(), labels, weight=w)

    def metrics(pred: Any) -> dict[str, float]:
        return {"auc": _auc(np.asarray(pred.label_ids), np.asarray(pred.predictions))}

    with tempfile.TemporaryDirectory(prefix="flowsleuth-sft-") as out:
        args = TrainingArguments(
            output_dir=out,
            max_steps=total,
            per_device_train_batch_size=cfg.batch_size,
            per_device_eval_batch_size=64,
            learning_rate=cfg.lr,
            weight_decay=0.01,
            warmup_steps=0.06,
            max_grad_norm=1.0,
            eval_strategy="steps",
            eval_steps=eval_every,
            save_strategy="steps",
            save_steps=eval_every,
            save_total_limit=1,
            save_only_model=True,
            load_best_model_at_end=True,
            metric_for_best_model="auc",
            greater_is_better=True,
            train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
            seed=cfg.seed,
            data_seed=cfg.seed,
            use_cpu=device == "cpu",
            bf16=device == "cuda",
            optim="adamw_torch",
            logging_strategy="no",
            report_to="none",
            disable_tqdm=not cfg.progress,
            dataloader_pin_memory=device == "cuda",
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=_Encoded(
                tokenizer, [texts[int(i)] for i in train_idx], y[train_idx], cfg.max_length
            ),
            eval_dataset=_Encoded(tokenizer, val_texts, y_val, cfg.max_length),
            data_collator=DataCollatorWithPadding(tokenizer),
            compute_loss_func=loss_fn,
            compute_metrics=metrics,
            callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience)],
        )
        trainer.train()
    state = trainer.state
    evals = [
        {"step": int(e["step"]), "val_auc": round(float(e["eval_auc"]), 4)}
        for e in state.log_history
        if "eval_auc" in e
    ]
    best = max(evals, key=lambda e: e["val_auc"], default={"step": 0})
    return {"steps": total, "evals": evals, "best_step": best["step"], "steps_run": int(state.global_step)}


class _Encoded:
    """Tokenised texts and labels as the map-style dataset ``Trainer`` reads."""

    def __init__(self, tokenizer: Any, texts: Sequence[str], y: np.ndarray, max_length: int):
        self.enc = tokenizer(list(texts), truncation=True, max_length=max_length)
        self.y = y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {**{k: v[i] for k, v in self.enc.items()}, "labels": int(self.y[i])}
