"""Loading errors a user can cause, and what the engine reports about the model it loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runtime.errors import ModelError
from tests.engine.conftest import GREEDY, load

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_engine_chat_and_prompt_does_not_import_llama_cpp():
    code = (
        "import sys, runtime.engine, runtime.chat, runtime.prompt, runtime.cli.chat; "
        "sys.exit('llama_cpp' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False).returncode == 0


def test_missing_model_is_named(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        load(tmp_path / "nope.gguf")


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip")
    with pytest.raises(ModelError, match="not a GGUF file"):
        load(fake)


@pytest.mark.slow
def test_unsupported_architecture_is_a_model_error(tiny_models, tmp_path):
    data = tiny_models.gguf_f16.read_bytes()
    value = data.index(b"llama", data.index(b"general.architecture"))
    alien = tmp_path / "alien.gguf"
    alien.write_bytes(data[:value] + b"zzzzz" + data[value + 5 :])
    with pytest.raises(ModelError, match="unknown model architecture") as caught:
        load(alien)
    assert "unsupported by this llama.cpp version" in caught.value.hint


@pytest.mark.slow
def test_context_is_capped_at_the_trained_length(tiny_models):
    engine = load(tiny_models.gguf_q4_k_m, context_size=8192)
    try:
        assert engine.n_ctx == 1024  # the tiny model's max_position_embeddings
    finally:
        engine.close()


@pytest.mark.slow
def test_a_prompt_longer_than_the_window_is_refused(engine):
    with pytest.raises(ModelError, match="does not fit the context window"):
        engine.generate("word " * 600, GREEDY)


@pytest.mark.slow
def test_token_counting_uses_the_models_tokenizer(engine):
    assert engine.count_tokens("") == 0
    assert engine.count_tokens("<|im_end|>") == 1  # a special token is one token
    assert engine.count_tokens("Hello there!") == len(engine.tokenize("Hello there!"))


def test_extra_buffer_types_can_be_turned_off_for_one_load_and_come_back():
    # On a CPU with AMX, llama.cpp's repacked weights crashed Q4_K_M decoding (see
    # `_cpu_has_amx`): load_model turns them off there, and only for its own load.
    import llama_cpp.llama_cpp as bindings

    from runtime.engine.llamacpp import _model_defaults

    assert bindings.llama_model_default_params().use_extra_bufts
    with _model_defaults(use_extra_bufts=False):
        assert not bindings.llama_model_default_params().use_extra_bufts
    assert bindings.llama_model_default_params().use_extra_bufts
    with _model_defaults(use_extra_bufts=True):
        assert bindings.llama_model_default_params().use_extra_bufts
