"""The CPU-friendly fine-tuning loop behind :meth:`SFTScorer.fit`.

Tokenises once, pads per batch, evaluates validation ROC-AUC every ``eval_every`` steps, keeps
the best weights and stops after ``patience`` evaluations without improvement.
"""

from __future__ import annotations

import copy
import os
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


def torch_threads() -> int:
    """Torch intra-op threads: ``$FLOWSLEUTH_THREADS``, else 1. On a shared 2-core box, two
    OpenMP threads made a training step 4-8x slower than one."""
    import torch

    n = max(1, int(os.environ.get("FLOWSLEUTH_THREADS", "1")))
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
    model: Any, tokenizer: Any, texts: Sequence[str], max_length: int, batch_size: int = 64
) -> np.ndarray:
    """Logits for ``texts`` in their order; batches are length-sorted to pad little."""
    import torch

    torch_threads()
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
    """Fine-tune ``model`` in place; returns a log (steps, evaluations, best step)."""
    import torch
    from rich.progress import Progress
    from transformers import get_linear_schedule_with_warmup

    torch_threads()
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    model.to(device)
    rng = np.random.default_rng(cfg.seed)
    n_cls = int(model.config.num_labels)
    counts = np.bincount(y, minlength=n_cls).astype(float)
    weight = None
    if cfg.balance == "weights":
        weight = torch.tensor(len(y) / (n_cls * np.maximum(counts, 1)), dtype=torch.float32, device=device)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    if cfg.head_only:
        for p in model.base_model.parameters():
            p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    enc = tokenizer(list(texts), truncation=True, max_length=cfg.max_length)
    per_epoch = max(1, int(np.ceil(len(texts) / cfg.batch_size)))
    total = max(1, round(per_epoch * cfg.epochs))
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * total), total)
    eval_every = cfg.eval_every or max(1, per_epoch // 4)
    sample_p = None
    if cfg.balance == "oversample":
        sample_p = (1.0 / np.maximum(counts, 1))[y]
        sample_p /= sample_p.sum()
    log: dict[str, Any] = {"steps": total, "evals": [], "best_step": 0}
    best, best_state, stale = -np.inf, None, 0
    order: np.ndarray = np.zeros(0, dtype=int)
    with Progress(disable=not cfg.progress, transient=True) as bar:
        task = bar.add_task("fine-tuning", total=total)
        for step in range(1, total + 1):
            if len(order) < cfg.batch_size:
                fresh = (
                    rng.choice(len(y), len(y), p=sample_p)
                    if sample_p is not None
                    else rng.permutation(len(y))
                )
                order = np.concatenate([order, fresh])
            idx, order = order[: cfg.batch_size], order[cfg.batch_size :]
            model.train()
            batch = tokenizer.pad([{k: enc[k][i] for k in enc} for i in idx], return_tensors="pt")
            with _autocast(device):
                logits = model(**batch.to(device)).logits
            loss = loss_fn(logits.float(), torch.as_tensor(y[idx], device=device))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            bar.update(task, advance=1, description=f"fine-tuning loss {loss.item():.3f}")
            if step % eval_every == 0 or step == total:
                metric = _auc(y_val, predict_logits(model, tokenizer, val_texts, cfg.max_length))
                log["evals"].append({"step": step, "val_auc": round(metric, 4)})
                if metric > best:
                    best, stale, log["best_step"] = metric, 0, step
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    stale += 1
                    if stale >= cfg.patience:
                        break
    if best_state is not None:
        model.load_state_dict(best_state)
    log["steps_run"] = step
    return log
