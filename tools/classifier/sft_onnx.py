"""Fast CPU scoring of an SFT model: the encoder (with its LoRA adapter merged) exported to ONNX
and run by ONNX Runtime, optionally with int8 dynamic quantization.

Exports are built on first use and cached by the weights' hash, so a shipped adapter costs one
export per machine, not per run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

Precision = Literal["fp32", "int8"]
_EXPORT_VERSION = "2"


def _fingerprint(scorer: Any, recipe: str) -> str:
    """A hash of the weights that change the output (adapter or whole model) and the head."""
    h = hashlib.sha256(f"{_EXPORT_VERSION}|{recipe}|{scorer.meta.backbone}|".encode())
    model = scorer.model
    name = scorer.adapter_name or getattr(model, "active_adapter", None)
    for key, tensor in sorted(model.state_dict().items()):
        if name is None or f".{name}." in key or key.endswith(f".{name}"):
            h.update(key.encode())
            h.update(tensor.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:20]


def _plain_model(scorer: Any) -> Any:
    """A standalone torch classifier equal to the scorer's: the adapter merged into a fresh
    copy of the backbone (the shared peft model is left as it is), so the graph has no adapter
    branches."""
    import copy

    from flowsleuth.tools.classifier.sft_adapter import is_adapter

    model = scorer.model
    if not is_adapter(model):
        return copy.deepcopy(model)  # export may switch its attention implementation
    with scorer._lock:
        if scorer.adapter_name is not None:
            model.set_adapter(scorer.adapter_name)
        merged = copy.deepcopy(model)
    active = merged.active_adapter
    for other in [n for n in merged.peft_config if n != active]:
        merged.delete_adapter(other)
    return merged.merge_and_unload()


def _optimize(src: Path, dst: Path, config: Any) -> None:
    """ONNX Runtime's transformer optimizer: fused attention, LayerNorm and GELU nodes."""
    from onnxruntime.transformers.optimizer import optimize_model

    opt = optimize_model(
        str(src),
        model_type="bert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
        opt_level=1,
    )
    opt.save_model_to_file(str(dst))


def to_onnx(model: Any, tokenizer: Any, path: Path) -> None:
    """Write ``model`` (a plain torch sequence classifier) as an fp32 ONNX graph with dynamic
    batch and length."""
    import torch

    dummy = tokenizer(["a b", "c"], padding=True, return_tensors="pt")
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    with torch.inference_mode():
        torch.onnx.export(
            model,
            (dummy["input_ids"], dummy["attention_mask"]),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={**axes, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,  # the TorchScript exporter needs no onnxscript
        )


def export(
    scorer: Any,
    cache_dir: Path,
    precision: Precision = "int8",
    optimize: bool = True,
    per_channel: bool = True,
) -> Path:
    """The ONNX file of ``scorer`` at ``precision`` under ``cache_dir``, exported when missing.
    ``optimize`` fuses the transformer's nodes (attention, LayerNorm, GELU) before quantization;
    ``per_channel`` int8 scales each output channel of a weight on its own (measured closer to
    fp32 than one scale per tensor: bench/results/sft_speed.json)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    recipe = f"{precision}|{optimize}|{per_channel and precision == 'int8'}"
    out = cache_dir / f"sft-{_fingerprint(scorer, recipe)}-{precision}.onnx"
    if out.is_file():
        return out
    fp32 = cache_dir / f"{out.stem}.fp32.tmp.onnx"
    model = _plain_model(scorer).eval()
    if optimize:  # the optimizer recognises the eager attention pattern, not SDPA's
        model.set_attn_implementation("eager")
    to_onnx(model, scorer.tokenizer, fp32)
    if optimize:
        raw = fp32.with_suffix(".raw.onnx")
        fp32.replace(raw)
        _optimize(raw, fp32, model.config)
        raw.unlink()
    tmp = cache_dir / f"{out.stem}.tmp.onnx"
    if precision == "int8":
        from onnx import TensorProto
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # fused (contrib-domain) nodes defeat shape inference: their outputs are float
        extra = {"DefaultTensorType": TensorProto.FLOAT}
        quantize_dynamic(
            str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=per_channel, extra_options=extra
        )
        fp32.unlink()
    else:
        fp32.replace(tmp)
    tmp.replace(out)  # atomic: a half-written export is never picked up
    return out


class OnnxEncoder:
    """ONNX Runtime session over an exported SFT model; ``logits(texts)`` like the torch path."""

    def __init__(
        self,
        path: Path,
        tokenizer: Any,
        max_length: int,
        batch_size: int = 16,  # fastest of 16/64/256 in both runs of bench/sft/speed.py
        threads: int = 1,
        spin: bool = True,
        model: bytes | None = None,
    ):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        if not spin:  # idle worker threads sleep instead of busy-waiting (a shared box)
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # ``model``: the file's bytes when the caller has read them already (to check a digest)
        source = model if model is not None else str(path)
        self.session = ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])
        self.path = path
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Logits in the order of ``texts``; batches are length-sorted to pad little."""
        n_out = int(self.session.get_outputs()[0].shape[-1])
        if len(texts) == 0:
            return np.zeros((0, n_out))
        enc = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        order = np.argsort([len(x) for x in ids], kind="stable")
        out = np.zeros((len(texts), n_out))
        for s in range(0, len(order), self.batch_size):
            idx = order[s : s + self.batch_size]
            width = max(len(ids[i]) for i in idx)
            a = np.full((len(idx), width), self.tokenizer.pad_token_id, dtype=np.int64)
            m = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                a[row, : len(ids[i])] = ids[i]
                m[row, : len(mask[i])] = mask[i]
            out[idx] = self.session.run(None, {"input_ids": a, "attention_mask": m})[0]
        return out


def attach(scorer: Any, cache_dir: Path, precision: Precision = "int8", threads: int = 1) -> Any:
    """Switch ``scorer`` (an SFTScorer, or every adapter of an AdapterSet) to ONNX Runtime."""
    targets = list(scorer.adapters.values()) if hasattr(scorer, "adapters") else [scorer]
    for s in targets:
        s.runtime = OnnxEncoder(export(s, cache_dir, precision), s.tokenizer, s.max_length, threads=threads)
    return scorer
