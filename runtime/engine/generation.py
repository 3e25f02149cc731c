"""One streamed reply from llama.cpp: text pieces as they arrive, then what it cost.

Tokens come from llama-cpp-python's `Llama.generate`, which reuses the KV cache for the longest
common prefix of the previous prompt (what makes Hearth's prompt layout cheap). The loop around
it is Hearth's own rather than `create_completion(stream=True)`, for three reasons measured on
llama-cpp-python 0.3.36: its streaming re-decodes every pending token on each step and, when a
model emits bytes that are not valid UTF-8 yet, retries every prefix of them, which turned a
400-token reply into 11 s of Python; it can overrun `max_tokens` while waiting for a multi-byte
character; and it gives no per-token hook for cancelling. Here each token is decoded once with an
incremental UTF-8 decoder, and generation stops on the model's end-of-generation tokens
(`llama_vocab_is_eog`: `<|im_end|>`, `<|eot_id|>`, `<end_of_turn>`, …), at `max_tokens`, or
when the cancel event is set: it is checked after every token, before the next one is decoded,
so setting it from any thread (the TUI's Esc, Ctrl+C in the plain chat) stops within one token.
Sampling and seeding are exactly `create_completion`'s, so both give the same tokens.

What a turn cost comes from llama.cpp's own perf counters (`llama_perf_context`), reset before
each generation and read when the first token arrives, i.e. after the prompt was evaluated.
llama.cpp counts multi-token batches in `n_p_eval` and single-token ones in `n_eval`, and reports
each as at least 1 (it divides by them), so `_prompt_evaluated` undoes that floor.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import llama_cpp

    from runtime.engine.lifetime import Lifetime

FinishReason = Literal["stop", "length", "cancelled"]


@dataclass(frozen=True)
class GenerationStats:
    """What one generation did."""

    finish_reason: FinishReason
    """"stop": the model ended its turn; "length": max tokens (or the window) reached;
    "cancelled": the cancel event was set, or the caller stopped reading."""
    prompt_tokens: int
    """Tokens in the prompt."""
    prompt_tokens_evaluated: int
    """Prompt tokens llama.cpp actually evaluated; the rest came from its KV cache."""
    completion_tokens: int
    """Tokens generated (the end-of-turn token not included)."""
    prompt_seconds: float
    """From the start until the first token was sampled."""
    seconds: float
    """From the start until the last piece of text."""

    @property
    def tokens_per_second(self) -> float:
        """Generation speed after the prompt (0 when nothing was generated)."""
        generating = self.seconds - self.prompt_seconds
        return self.completion_tokens / generating if generating > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {**asdict(self), "tokens_per_second": round(self.tokens_per_second, 2)}


def predicted_evaluation(llm: llama_cpp.Llama, tokens: Sequence[int]) -> int:
    """How many of `tokens` llama-cpp-python will evaluate, given what its KV cache holds.

    Mirrors `Llama.generate`: reuse the longest common prefix, but evaluate at least one token
    unless the very same prompt was the last thing evaluated.
    """
    if llm.n_tokens == 0:
        return len(tokens)
    common = llm.longest_token_prefix(llm._input_ids.tolist(), tokens)
    if common == len(tokens):
        exact = llm.n_tokens == len(tokens) and not llm._requires_eval
        return 0 if exact else 1
    return len(tokens) - common


@dataclass
class _Counters:
    p_eval: int
    eval: int


def _read_counters(llm: llama_cpp.Llama) -> _Counters:
    import llama_cpp

    data = llama_cpp.llama_perf_context(llm._ctx.ctx)
    return _Counters(int(data.n_p_eval), int(data.n_eval))


class Generation:
    """A reply being generated: iterate it (once) for text pieces; then read `stats`.

    Holds the engine's lock while iterating, so one model runs one generation at a time.
    Breaking out of the loop early ends generation too.
    """

    def __init__(
        self,
        llm: llama_cpp.Llama,
        prompt_tokens: list[int],
        sampling: dict[str, Any],
        *,
        cancel: threading.Event | None,
        lock: threading.Lock,
        lifetime: Lifetime,
    ) -> None:
        self._llm = llm
        self._prompt = prompt_tokens
        self._sampling = sampling
        self._cancel = cancel
        self._lock = lock
        self._lifetime = lifetime
        self._started = False
        self._pieces: list[str] = []
        self.stats: GenerationStats | None = None
        """Filled in when iteration ends (however it ends)."""

    @property
    def text(self) -> str:
        """Everything streamed so far."""
        return "".join(self._pieces)

    def __iter__(self) -> Generator[str, None, None]:
        if self._started:
            raise RuntimeError("a Generation can only be iterated once")
        self._started = True
        return self._run()

    def _run(self) -> Generator[str, None, None]:
        import llama_cpp

        with self._lifetime.using(), self._lock:
            llm, cancel, options = self._llm, self._cancel, dict(self._sampling)
            limit = min(int(options.pop("max_tokens")), llm.n_ctx() - len(self._prompt))
            llm.set_seed(int(options.pop("seed")))
            predicted = predicted_evaluation(llm, self._prompt)
            llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            vocab = llm._model.vocab
            first: _Counters | None = None
            started = time.monotonic()
            first_at = started
            finish: FinishReason = "length"
            count = 0
            options["temp"] = options.pop("temperature")
            tokens = llm.generate(self._prompt, **options)
            try:
                for token in tokens:
                    if first is None:
                        first, first_at = _read_counters(llm), time.monotonic()
                    if llama_cpp.llama_vocab_is_eog(vocab, token):
                        finish = "stop"
                        break
                    count += 1
                    piece = decoder.decode(llm.detokenize([token]))
                    if piece:
                        self._pieces.append(piece)
                        yield piece
                    if (cancel is not None and cancel.is_set()) or self._lifetime.closing.is_set():
                        finish = "cancelled"
                        break
                    if count >= limit:
                        break
                tail = decoder.decode(b"", final=True)
                if tail:
                    self._pieces.append(tail)
                    yield tail
            except GeneratorExit:  # the caller stopped reading: that is a cancel too
                finish = "cancelled"
                raise
            finally:
                tokens.close()
                ended = time.monotonic()
                decoded = max(0, llm.n_tokens - len(self._prompt))
                end = _read_counters(llm)
                self.stats = GenerationStats(
                    finish_reason=finish,
                    prompt_tokens=len(self._prompt),
                    prompt_tokens_evaluated=_prompt_evaluated(
                        first or end, end, decoded, predicted
                    ),
                    completion_tokens=count,
                    prompt_seconds=first_at - started,
                    seconds=ended - started,
                )


def _prompt_evaluated(first: _Counters, end: _Counters, decoded: int, predicted: int) -> int:
    """Prompt tokens evaluated, from the counters read at the first token and at the end.

    `decoded` generated tokens were fed back one at a time (each adds 1 to `n_eval`). Real
    `n_p_eval` is never 1 (a one-token batch counts as `n_eval`), so an observed 1 means 0. Real
    single-token batches during the prompt are 0 or 1: known from the end count when something
    was decoded after the prompt; otherwise `predicted` (the prefix-match count) decides.
    """
    prompt_batched = first.p_eval if first.p_eval > 1 else 0
    if decoded > 0:
        single = min(1, max(0, end.eval - decoded))
    else:
        single = 1 if predicted - prompt_batched == 1 else 0
    return prompt_batched + single
