"""Closing an engine that another thread still uses: the close waits for it (a generation stops
at its next token), and every later use is a ModelClosedError, never freed memory."""

from __future__ import annotations

import threading

import pytest

from runtime.companion import GenerationSettings
from runtime.engine.errors import ModelClosedError
from tests.engine.conftest import load

pytestmark = pytest.mark.slow

LONG = GenerationSettings(temperature=1.0, max_tokens=3000, seed=5)


def test_a_close_during_a_generation_stops_it_then_frees_the_model(tiny_babbler):
    engine = load(tiny_babbler.gguf_q4_k_m, context_size=4096)
    generation = engine.generate(engine.tokenize("Hello there!"), LONG)
    streaming = threading.Event()
    pieces: list[str] = []

    def read() -> None:
        for piece in generation:
            pieces.append(piece)
            streaming.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert streaming.wait(60)
    engine.close()  # returns only once the reader has let go of the model
    assert generation.stats is not None, "the generation must have ended before the free"
    assert generation.stats.finish_reason == "cancelled"
    assert generation.stats.completion_tokens < LONG.max_tokens
    reader.join(10)
    assert not reader.is_alive()


def test_every_use_after_close_is_a_model_closed_error(tiny_models):
    engine = load(tiny_models.gguf_q4_k_m)
    tokens = engine.tokenize("Hello")
    engine.close()
    engine.close()  # twice is fine
    for use in (
        lambda: engine.tokenize("Hello"),
        lambda: engine.n_ctx,
        lambda: engine.predicted_evaluation(tokens),
        lambda: engine.reset(),
        lambda: list(engine.generate(tokens, GenerationSettings(max_tokens=4))),
    ):
        with pytest.raises(ModelClosedError, match="closed"):
            use()
