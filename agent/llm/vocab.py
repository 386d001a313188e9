"""The text of every token, for the guided decoder's per-token rules, cached on disk.

Decoding 49k tokens one by one costs about a second at each start; reading them back from a
JSON file next to the converted weights costs a few milliseconds. The file is keyed by a hash
of the tokenizer files and the library versions that decode them, so a different model or a
different ``tokenizers`` never reads a stale list; a file that does not read back as the right
number of strings is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt")


def vocab_key(folder: Path, size: int, versions: Sequence[str] = ()) -> str:
    """A short hash of the tokenizer files in ``folder``, the vocabulary ``size`` and ``versions``."""
    h = hashlib.sha256(f"{size}|{'|'.join(versions)}".encode())
    for name in _TOKENIZER_FILES:
        path = folder / name
        if path.is_file():
            h.update(name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def cached_texts(path: Path, size: int, build: Callable[[], list[str]]) -> list[str]:
    """The ``size`` token texts stored at ``path``, else ``build()`` them and store them there.

    A missing, unreadable or malformed file is rebuilt; failing to write only costs the cache."""
    texts = _read(path, size)
    if texts is not None:
        return texts
    texts = build()
    with contextlib.suppress(OSError):
        _write(path, texts)
    return texts


def token_texts(tokenizer: Any, folder: Path) -> list[str]:
    """The text of each token id of ``tokenizer`` (loaded from ``folder``), cached in ``folder``."""
    import tokenizers
    import transformers

    size = len(tokenizer)
    key = vocab_key(folder, size, (transformers.__version__, tokenizers.__version__))
    return cached_texts(
        folder / f"vocab-{key}.json",
        size,
        lambda: list(tokenizer.batch_decode([[i] for i in range(size)])),
    )


def _read(path: Path, size: int) -> list[str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, truncated, not UTF-8, not JSON
        return None
    if not isinstance(data, list) or len(data) != size or not all(isinstance(t, str) for t in data):
        return None
    return data


def _write(path: Path, texts: list[str]) -> None:
    """Write atomically: a concurrent reader sees the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(prefix=".vocab-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(texts, f)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
