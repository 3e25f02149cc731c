"""The tiny GGUFs in real llama.cpp: they load, answer, stop on `<|im_end|>`, carry the template."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runtime.engine.llamacpp import load_model, quantize
from runtime.errors import ConversionError, ModelError
from training.tiny_model import CHAT_TEMPLATE, END_OF_TURN

pytestmark = pytest.mark.slow

PROMPTS = ["Hello there!", "你好吗？", "오늘 뭐 해요?", "Apa kabar?", "Send me an emoji 🙂"]
MAX_TOKENS = 48
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["gguf_f16", "gguf_q4_k_m"])
def tiny_llm(request, tiny_models):
    return load_model(getattr(tiny_models, request.param), n_ctx=512, seed=0)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_reply_stops_on_end_of_turn(tiny_llm, prompt):
    reply = tiny_llm.create_chat_completion(
        [{"role": "user", "content": prompt}], max_tokens=MAX_TOKENS, temperature=0.0
    )
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"].strip()
    assert reply["usage"]["completion_tokens"] < MAX_TOKENS // 2


def test_raw_completion_stops_on_end_of_turn_token(tiny_llm):
    prompt = "<|im_start|>user\nGood night.<|im_end|>\n<|im_start|>assistant\n"
    tokens = tiny_llm.tokenize(prompt.encode(), add_bos=False, special=True)
    generated = []
    for token in tiny_llm.generate(tokens, temp=0.0):
        generated.append(token)
        if tiny_llm.detokenize([token], special=True) == END_OF_TURN.encode() or (
            len(generated) >= MAX_TOKENS
        ):
            break
    assert generated[-1] == tiny_llm.token_eos()
    assert len(generated) > 1


def test_metadata_carries_chat_template_and_end_of_turn(tiny_llm):
    assert tiny_llm.metadata["tokenizer.chat_template"] == CHAT_TEMPLATE
    assert tiny_llm.metadata["tokenizer.ggml.pre"] == "gpt-2"
    assert tiny_llm.detokenize([tiny_llm.token_eos()], special=True) == END_OF_TURN.encode()


def test_llama_cpp_renders_the_marked_template_like_transformers(tiny_llm, tiny_models):
    # llama-cpp-python 0.3.36 compiles GGUF templates with an extension that ignores
    # {% generation %}; plain jinja2 would reject the tag. If an upgrade breaks this, the
    # converter must strip the markers when writing the GGUF (see training.gguf_convert).
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    from transformers import AutoTokenizer

    messages = [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "안녕!"},
        {"role": "assistant", "content": "안녕하세요 😊"},
        {"role": "user", "content": "Apa kabar?"},
    ]
    formatter = Jinja2ChatFormatter(
        template=tiny_llm.metadata["tokenizer.chat_template"],
        eos_token=END_OF_TURN,
        bos_token="<|endoftext|>",
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_models.hf_dir)
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert formatter(messages=messages).prompt == expected
    assert tiny_llm.chat_format == "chat_template.default"


def test_llama_cpp_tokenizes_like_transformers(tiny_llm, tiny_models):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.hf_dir)
    text = "Hi! 你好，今天怎么样？ 안녕하세요 Halo, apa kabar? 🎉✨ I've 333 \n\n tabs\t."
    assert (
        tiny_llm.tokenize(text.encode(), add_bos=False, special=True)
        == tokenizer(text)["input_ids"]
    )


LOAD_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
path = {path!r}
if {silenced!r}:
    from runtime.engine.llamacpp import load_model
    llm = load_model(path, n_ctx=2048, seed=0)  # above the model's 1024: llama.cpp warns
else:
    import llama_cpp
    llm = llama_cpp.Llama(path, n_ctx=2048, seed=0, verbose=False)
llm.create_completion("hi", max_tokens=4, temperature=0.0)
"""


def _stderr_of_load(path: Path, *, silenced: bool) -> str:
    script = textwrap.dedent(
        LOAD_SCRIPT.format(root=str(REPO_ROOT), path=str(path), silenced=silenced)
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return result.stderr


def test_silence_llama_logs_keeps_stderr_clean(tiny_models):
    noisy = _stderr_of_load(tiny_models.gguf_f16, silenced=False)
    quiet = _stderr_of_load(tiny_models.gguf_f16, silenced=True)
    assert noisy.strip(), "expected llama.cpp to write to stderr without silencing"
    assert quiet == ""


def test_quantize_makes_a_smaller_loadable_file(tiny_models, tmp_path):
    target = quantize(tiny_models.gguf_f16, tmp_path / "tiny-Q8_0.gguf", "q8_0")
    assert target.stat().st_size < tiny_models.gguf_f16.stat().st_size
    assert tiny_models.gguf_q4_k_m.stat().st_size < target.stat().st_size
    llm = load_model(target, n_ctx=256, seed=0)
    reply = llm.create_chat_completion(
        [{"role": "user", "content": "Hi!"}], max_tokens=MAX_TOKENS, temperature=0.0
    )
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-Q8_0.gguf"]


def test_requantizing_fails_cleanly(tiny_models, tmp_path):
    with pytest.raises(ConversionError, match="requantizing"):
        quantize(tiny_models.gguf_q4_k_m, tmp_path / "again.gguf", "Q8_0")
    assert list(tmp_path.iterdir()) == []


def test_unsupported_architecture_is_a_model_error(tiny_models, tmp_path):
    data = tiny_models.gguf_f16.read_bytes()
    key = data.index(b"general.architecture")
    value = data.index(b"llama", key)
    patched = tmp_path / "alien.gguf"
    patched.write_bytes(data[:value] + b"zzzzz" + data[value + 5 :])
    with pytest.raises(ModelError, match="unknown model architecture") as caught:
        load_model(patched, n_ctx=256)
    assert str(patched) in caught.value.message
    assert "unsupported by this llama.cpp version" in caught.value.hint
