"""One SFT artifact's fp32 ONNX export, cached under the home's cache and read back without torch.

The cache key is a hash of the artifact's files (meta, adapter or weights) and the backbone's
identity, so finding a cached export needs no torch, peft or transformers import: ONNX Runtime
and the ``tokenizers`` library score the job. An export is written to a unique temporary name,
then renamed to ``sft-<key>-fp32-<sha256 prefix of its bytes>.onnx``, so a reader sees whole
files only and concurrent builders never mix their bytes. Each export also carries its key, its
tokenizer's pad id and the logits PyTorch gave a few probe inputs. A file whose bytes do not
match its name's digest (truncated, garbled), that fails to load, has another key or no longer
gives those logits is not used (reading and hashing the ~90 MB costs ~0.15 s).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from flowsleuth.tools.classifier.artifact import ArtifactError, ArtifactMeta
from flowsleuth.tools.classifier.sft_adapter import PACKAGED_BACKBONE, backbone_path
from flowsleuth.tools.classifier.sft_onnx import Precision

CACHE_VERSION = "1"
PRECISION: Precision = "fp32"  # what ``why`` scored with before (torch fp32); int8 failed #15's F1 rule
# Largest |logit| difference accepted between the export and PyTorch on the probe inputs: fp32
# export moves logits by ~1e-7 (bench/results/why_parity.md), corruption by far more.
PROBE_ATOL = 1e-3
PROBES = (
    "wait 5 queue 12 run 93 post 5 in 17 out 4 read 12e8 write 52e4 cpu 88 | rt 1 ct 1 si 1",
    "run 2400 cpu 2300 | rt 25 ct 26 host 3.1 io .9",
    "Job eht-imaging_pipeline_ID0000001 ran 93 seconds on host poseidon-worker-2.",
)
_DIGEST = 16  # hex digits of the sha256 in an export's name
_META_KEY, _META_PAD, _META_PROBE = "flowsleuth_key", "flowsleuth_pad_id", "flowsleuth_probe_logits"


NO_EXPORT = "no cached export"


class CacheError(Exception):
    """A cached export that cannot be used (missing, partial, stale or corrupt)."""


def _backbone_id(meta: ArtifactMeta, directory: Path) -> str:
    """The backbone an adapter was trained on: the packaged one by version, else the files of
    its folder by name, size and modification time (a full model carries its own weights)."""
    if "adapter" not in meta.params:
        return "own weights"
    if meta.backbone == PACKAGED_BACKBONE:
        return f"{PACKAGED_BACKBONE}=={importlib.metadata.version(PACKAGED_BACKBONE)}"
    folder = Path(backbone_path(meta.backbone))
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    return json.dumps([(str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files])


def artifact_key(directory: Path, meta: ArtifactMeta) -> str:
    """A hash of everything that changes the artifact's logits, read from its files;
    :class:`ArtifactError` when they or the backbone cannot be read."""
    try:
        h = hashlib.sha256(f"{CACHE_VERSION}|{PRECISION}|{_backbone_id(meta, directory)}|".encode())
        for p in sorted(q for q in directory.rglob("*") if q.is_file()):
            h.update(str(p.relative_to(directory)).encode() + b"\0")
            h.update(p.read_bytes())
    except importlib.metadata.PackageNotFoundError:
        raise ArtifactError(f"{directory}: backbone package {meta.backbone} is not installed") from None
    except OSError as err:
        raise ArtifactError(f"{directory}: unreadable model files ({err.strerror or err})") from None
    return h.hexdigest()[:24]


def tokenizer_file(directory: Path, meta: ArtifactMeta) -> Path:
    """The ``tokenizer.json`` the artifact's inputs are tokenized with."""
    if "adapter" in meta.params:
        return Path(backbone_path(meta.backbone)) / "tokenizer.json"
    return directory / "model" / "tokenizer.json"


class FastTokenizer:
    """The ``tokenizers`` library behind the call the ONNX encoder makes of a transformers
    tokenizer (``tok(texts, truncation=True, max_length=n)``): same ids, no transformers import."""

    def __init__(self, path: Path, pad_token_id: int):
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(path))
        self._tok.no_padding()
        self.pad_token_id = pad_token_id

    def __call__(self, texts: Sequence[str], truncation: bool, max_length: int) -> dict[str, list[list[int]]]:
        if truncation:
            self._tok.enable_truncation(max_length)
        else:
            self._tok.no_truncation()
        enc = self._tok.encode_batch(list(texts))
        return {"input_ids": [e.ids for e in enc], "attention_mask": [e.attention_mask for e in enc]}


def cached_exports(cache_dir: Path, key: str) -> list[Path]:
    return sorted(cache_dir.glob(f"sft-{key}-{PRECISION}-*.onnx"))


def open_cached(cache_dir: Path, key: str, tokenizer: Path, max_length: int, threads: int) -> Any:
    """An :class:`~tools.classifier.sft_onnx.OnnxEncoder` over a cached export of ``key``;
    :class:`CacheError` when there is none, or none that is whole and right."""
    paths = cached_exports(cache_dir, key)
    if not paths:
        raise CacheError(NO_EXPORT)
    errors = []
    for path in paths:
        try:
            return _open(path, key, tokenizer, max_length, threads)
        except CacheError as err:
            errors.append(f"{path.name}: {err}")
    raise CacheError("; ".join(errors))


def _open(path: Path, key: str, tokenizer: Path, max_length: int, threads: int) -> Any:
    from flowsleuth.tools.classifier.sft_onnx import OnnxEncoder

    try:
        data = path.read_bytes()
    except OSError as err:  # e.g. replaced by a concurrent rebuild since the listing
        raise CacheError(f"unreadable ({err.strerror or err})") from None
    if hashlib.sha256(data).hexdigest()[:_DIGEST] != path.stem.rsplit("-", 1)[-1]:
        raise CacheError("its bytes do not match its digest (partial or corrupt)")
    try:
        enc = OnnxEncoder(path, None, max_length, threads=threads, model=data)
        props = enc.session.get_modelmeta().custom_metadata_map
        if props.get(_META_KEY) != key:
            raise CacheError("export of other weights")
        enc.tokenizer = FastTokenizer(tokenizer, int(props[_META_PAD]))
        want = np.asarray(json.loads(props[_META_PROBE]), dtype=float)
        got = enc.logits(list(PROBES))
    except CacheError:
        raise
    except Exception as err:  # ONNX Runtime's own errors (a garbled graph) have no common base
        raise CacheError(f"unreadable ({type(err).__name__}: {str(err).splitlines()[0][:160]})") from None
    if got.shape != want.shape or not np.allclose(got, want, rtol=0.0, atol=PROBE_ATOL):
        raise CacheError("its logits differ from the ones recorded at export (corrupt)")
    return enc


@contextmanager
def _publishing(cache_dir: Path) -> Iterator[None]:
    """An exclusive lock on the cache folder's lock file (released when the process dies)."""
    import fcntl

    with open(cache_dir / ".publish.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def probe_logits(scorer: Any) -> np.ndarray:
    """PyTorch's logits of the probe inputs (what a cached export must reproduce)."""
    return np.asarray(scorer.logits(list(PROBES)), dtype=float)


def build(scorer: Any, cache_dir: Path, key: str) -> Path:
    """Export ``scorer`` (a torch-backed SFTScorer, used up: its adapter is merged into its
    backbone in place) to the cache under ``key``, atomically. Plain fp32: for one job the
    fused graph was no faster to load or run, and fusing took ~40% of the export's time
    (bench/results/why_startup.md). Refuses (ValueError) an export whose probe logits stray
    from PyTorch's."""
    import onnx
    from flowsleuth.tools.classifier.sft_adapter import is_adapter
    from flowsleuth.tools.classifier.sft_onnx import OnnxEncoder, to_onnx

    want = probe_logits(scorer)
    model = scorer.model.merge_and_unload() if is_adapter(scorer.model) else scorer.model
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
    try:
        raw = work / "raw.onnx"
        with warnings.catch_warnings():  # the tracer's warnings are about code paths we do not take
            warnings.simplefilter("ignore")
            to_onnx(model.eval(), scorer.tokenizer, raw)
        got = OnnxEncoder(raw, scorer.tokenizer, scorer.max_length).logits(list(PROBES))
        if not np.allclose(got, want, rtol=0.0, atol=PROBE_ATOL):
            raise ValueError(f"ONNX export strays from PyTorch by {np.abs(got - want).max():.2g} logits")
        graph = onnx.load(str(raw))
        for k, v in {
            _META_KEY: key,
            _META_PAD: str(int(scorer.tokenizer.pad_token_id)),
            _META_PROBE: json.dumps(want.tolist()),
        }.items():
            graph.metadata_props.add(key=k, value=v)
        staged = work / "staged.onnx"
        onnx.save(graph, str(staged))
        with open(staged, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()[:_DIGEST]
            os.fsync(fh.fileno())
        out = cache_dir / f"sft-{key}-{PRECISION}-{digest}.onnx"
        with _publishing(cache_dir):  # a concurrent builder's clean-up must not remove this one
            os.replace(staged, out)  # atomic: readers see the whole file or none
            for old in cached_exports(cache_dir, key):  # a damaged or concurrent copy: one suffices
                if old != out:
                    old.unlink(missing_ok=True)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)
