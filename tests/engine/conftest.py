"""Engines on the tiny real models, loaded once per module (loading is cheap, but adds up)."""

from __future__ import annotations

import pytest

from runtime.companion import GenerationSettings
from runtime.engine import Engine, EngineConfig

GREEDY = GenerationSettings(temperature=0.0, max_tokens=48)


def load(path, **options) -> Engine:
    """An engine for the GGUF at `path` with a small context."""
    options.setdefault("context_size", 512)
    return Engine.load(EngineConfig(model=path, **options))


@pytest.fixture(scope="module")
def engine(tiny_models):
    engine = load(tiny_models.gguf_q4_k_m)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def babbler(tiny_babbler):
    engine = load(tiny_babbler.gguf_q4_k_m, context_size=4096)
    yield engine
    engine.close()
