"""The chat engine: a GGUF model (plus an optional LoRA adapter) loaded in-process, ready to talk.

    engine = Engine.load(EngineConfig(model=Path("mira-Q4_K_M.gguf"), context_size=8192))
    prompt = engine.render([{"role": "user", "content": "hi"}])
    generation = engine.generate(engine.tokenize(prompt), companion.generation, cancel=event)
    for piece in generation:
        print(piece, end="")
    generation.stats.prompt_tokens_evaluated

It owns one llama.cpp context. Successive prompts that share a prefix reuse its KV cache (that is
llama-cpp-python's own prefix matching; prompt assembly keeps prefixes stable so it pays off).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.companion import GenerationSettings
from runtime.engine.adapters import BaseIdentity, base_identity, check_adapter
from runtime.engine.generation import Generation, predicted_evaluation
from runtime.engine.lifetime import Lifetime
from runtime.engine.llamacpp import check_gguf_file, load_model
from runtime.engine.template import ChatMessage, ChatTemplate
from runtime.errors import ModelError
from runtime.models.gguf_header import read_gguf_header

if TYPE_CHECKING:
    import llama_cpp

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    """How to load a model: files, context window and hardware settings."""

    model: Path
    adapter: Path | None = None
    adapter_scale: float = 1.0
    context_size: int = 4096
    """Requested context window; capped at the model's trained context length."""
    threads: int | None = None
    """CPU threads; None lets llama-cpp-python choose."""
    gpu_layers: int = -1
    """Layers offloaded to a GPU when llama.cpp has one; -1 offloads all."""


DEFAULT_TOP_K = 40
"""llama-cpp-python's default; min_p and top_p do the real work for companion chat."""


def sampling_arguments(settings: GenerationSettings, max_tokens: int | None = None) -> dict:
    """`create_completion` keyword arguments for a companion's generation settings.

    Without a fixed seed each call gets a fresh random one: llama-cpp-python would otherwise
    derive the same seed every time, and every regeneration would repeat the last reply.
    """
    return {
        "temperature": settings.temperature,
        "top_k": DEFAULT_TOP_K,
        "top_p": settings.top_p,
        "min_p": settings.min_p,
        "repeat_penalty": settings.repeat_penalty,
        "max_tokens": max_tokens or settings.max_tokens,
        "seed": settings.seed if settings.seed is not None else secrets.randbits(31),
    }


class Engine:
    """A loaded model: tokenize, render its chat template, generate streaming replies."""

    def __init__(self, llm: llama_cpp.Llama, config: EngineConfig) -> None:
        """Wrap a loaded `llama_cpp.Llama`; use `Engine.load`."""
        self._llm = llm
        self.config = config
        self._lock = threading.Lock()
        """Held by the generation running (one at a time per context)."""
        self._lifetime = Lifetime()

    @classmethod
    def load(cls, config: EngineConfig) -> Engine:
        """Load the model (and adapter, after checking it belongs to this base)."""
        model = check_gguf_file(config.model)
        adapter = check_adapter(config.adapter, model) if config.adapter else None
        trained = read_gguf_header(model).context_length
        n_ctx = min(config.context_size, trained) if trained else config.context_size
        if n_ctx < config.context_size:
            logger.info("context %d capped at the model's trained %d", config.context_size, n_ctx)
        llm = load_model(
            model,
            n_ctx=n_ctx,
            n_threads=config.threads,
            n_gpu_layers=config.gpu_layers,
            lora_path=adapter,
            lora_scale=config.adapter_scale,
        )
        logger.info("loaded %s (context %d, adapter: %s)", model.name, n_ctx, bool(adapter))
        return cls(llm, config)

    # --- what the model is --------------------------------------------------------------

    @property
    def llama(self) -> llama_cpp.Llama:
        """The underlying `llama_cpp.Llama` (benchmarks compare against it directly)."""
        return self._llm

    @property
    def n_ctx(self) -> int:
        """The context window in tokens."""
        with self._lifetime.using():
            return self._llm.n_ctx()

    @property
    def model_name(self) -> str:
        """What assistant messages record as their model: file stem, plus the adapter's."""
        name = self.config.model.stem
        if self.config.adapter:
            name += f"+{self.config.adapter.stem}"
        return name

    @cached_property
    def template(self) -> ChatTemplate:
        """The model's chat template (from the GGUF; ChatML when it has none)."""
        with self._lifetime.using():
            model = self._llm._model
            eos, bos = self._llm.token_eos(), self._llm.token_bos()
            return ChatTemplate(
                self._llm.metadata.get("tokenizer.chat_template"),
                eos_token=model.token_get_text(eos) if eos != -1 else "",
                bos_token=model.token_get_text(bos) if bos != -1 else "",
            )

    def identity(self) -> BaseIdentity:
        """The base identity of the loaded model (see `runtime.engine.adapters`)."""
        return base_identity(self.config.model)

    # --- tokens and templates -------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        """Tokens of `text` as the model sees it: special tokens parsed, no BOS added (chat
        templates write their own, as llama-cpp-python's chat path assumes)."""
        with self._lifetime.using():
            return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` is for this model."""
        return len(self.tokenize(text)) if text else 0

    def render(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True) -> str:
        """The prompt text for `messages` through the model's chat template."""
        return self.template.render(messages, add_generation_prompt=add_generation_prompt)

    # --- generating -----------------------------------------------------------------------

    def generate(
        self,
        prompt: str | Sequence[int],
        settings: GenerationSettings | None = None,
        *,
        cancel: threading.Event | None = None,
        max_tokens: int | None = None,
        sampling: dict[str, Any] | None = None,
    ) -> Generation:
        """Start a streamed reply to `prompt` (text, or its tokens from `tokenize`).

        Sampling follows `settings` (defaults: `GenerationSettings()`), or `sampling`: the
        keyword arguments `sampling_arguments` returns, which `create_completion` also takes.
        Nothing runs until the returned `Generation` is iterated; setting `cancel` stops it
        within one token.
        """
        tokens = self.tokenize(prompt) if isinstance(prompt, str) else list(prompt)
        if len(tokens) >= self.n_ctx:
            raise ModelError(
                f"the prompt ({len(tokens)} tokens) does not fit the context window "
                f"({self.n_ctx} tokens)",
                hint="raise the context size (generation.context_size) or shorten the prompt",
            )
        arguments = sampling or sampling_arguments(settings or GenerationSettings(), max_tokens)
        return Generation(
            self._llm, tokens, arguments, cancel=cancel, lock=self._lock, lifetime=self._lifetime
        )

    def predicted_evaluation(self, tokens: Sequence[int]) -> int:
        """How many of `tokens` would be evaluated now (the rest is in the KV cache)."""
        with self._lifetime.using():
            return predicted_evaluation(self._llm, tokens)

    def reset(self) -> None:
        """Forget the KV cache: the next prompt is evaluated from its first token."""
        with self._lifetime.using(), self._lock:
            self._llm.reset()

    def close(self) -> None:
        """Free the model and its context once no thread uses them (a generation running
        stops at its next token); later calls raise ModelClosedError."""
        self._lifetime.close(self._llm.close)
