"""LoRA adapters on the tiny model: they change the output, scale 0 changes nothing, and an adapter
for another base is a clear error (from its manifest, its header, or llama.cpp's shape check)."""

from __future__ import annotations

import json
import shutil

import pytest

from runtime.engine import (
    AdapterMismatchError,
    BaseIdentity,
    base_identity,
    check_adapter,
    manifest_path,
    read_adapter_manifest,
    write_adapter_manifest,
)
from runtime.errors import ConversionError, ModelError
from tests.engine.conftest import GREEDY, load
from training.gguf_convert import convert_lora_to_gguf

pytestmark = pytest.mark.slow

PROMPTS = ["Hello there!", "Good night.", "Apa kabar?"]


def replies(engine) -> list[str]:
    out = []
    for text in PROMPTS:
        prompt = engine.render([{"role": "user", "content": text}])
        out.append("".join(engine.generate(prompt, GREEDY)))
    return out


@pytest.fixture(scope="module")
def base_replies(tiny_models):
    engine = load(tiny_models.gguf_q4_k_m)
    try:
        return replies(engine)
    finally:
        engine.close()


def test_adapter_changes_the_output(tiny_models, tiny_adapters, base_replies):
    engine = load(tiny_models.gguf_q4_k_m, adapter=tiny_adapters.gguf)
    try:
        assert replies(engine) != base_replies
        assert engine.model_name == "tiny-Q4_K_M+adapter"
    finally:
        engine.close()


def test_adapter_at_scale_zero_changes_nothing(tiny_models, tiny_adapters, base_replies):
    engine = load(tiny_models.gguf_q4_k_m, adapter=tiny_adapters.gguf, adapter_scale=0.0)
    try:
        assert replies(engine) == base_replies
    finally:
        engine.close()


def test_adapter_with_other_shapes_is_refused_by_llama_cpp(tiny_models, tiny_adapters):
    with pytest.raises(AdapterMismatchError) as caught:
        load(tiny_models.gguf_q4_k_m, adapter=tiny_adapters.other_base_gguf)
    message = caught.value.message
    assert str(tiny_adapters.other_base_gguf) in message
    assert "incorrect shape" in message
    assert "--no-adapter" in caught.value.hint


def test_manifest_of_another_base_is_refused_before_loading(tiny_models, tiny_adapters, tmp_path):
    adapter = tmp_path / "mira.gguf"
    shutil.copy(tiny_adapters.gguf, adapter)
    recorded = read_adapter_manifest(tiny_adapters.gguf)
    other = BaseIdentity.from_dict({**recorded.to_dict(), "n_vocab": 32000, "n_layer": 28})
    write_adapter_manifest(adapter, other)
    with pytest.raises(AdapterMismatchError) as caught:
        check_adapter(adapter, tiny_models.gguf_q4_k_m)
    assert "trained for another base model" in caught.value.message
    assert "n_layer 28 vs 2" in caught.value.message
    assert "n_vocab 32000 vs 1178" in caught.value.message


def test_matching_manifest_passes_for_every_quantization(tiny_models, tiny_adapters):
    for base in (tiny_models.gguf_f16, tiny_models.gguf_q4_k_m):
        assert check_adapter(tiny_adapters.gguf, base) == tiny_adapters.gguf


def test_identity_survives_quantization(tiny_models, tiny_adapters):
    f16, q4 = base_identity(tiny_models.gguf_f16), base_identity(tiny_models.gguf_q4_k_m)
    assert f16 == q4
    assert f16.digest == q4.digest
    assert (f16.architecture, f16.n_layer, f16.n_embd, f16.n_head_kv) == ("llama", 2, 256, 2)
    assert read_adapter_manifest(tiny_adapters.gguf) == f16
    stored = json.loads(manifest_path(tiny_adapters.gguf).read_text())
    assert stored["format"] == "hearth-adapter" and stored["base"]["digest"] == f16.digest


def test_adapter_for_another_architecture_is_refused(tiny_models, tiny_adapters, tmp_path):
    data = tiny_adapters.gguf.read_bytes()
    key = data.index(b"general.architecture")
    value = data.index(b"llama", key)
    patched = tmp_path / "gemma-lora.gguf"
    patched.write_bytes(data[:value] + b"gemma" + data[value + 5 :])
    expected = r"is for a gemma model, but .* is a llama model"
    with pytest.raises(AdapterMismatchError, match=expected):
        check_adapter(patched, tiny_models.gguf_q4_k_m)


def test_a_model_is_not_an_adapter(tiny_models):
    with pytest.raises(ModelError, match="is a model, not a LoRA adapter"):
        load(tiny_models.gguf_q4_k_m, adapter=tiny_models.gguf_f16)


def test_missing_adapter_is_named(tiny_models, tmp_path):
    with pytest.raises(ModelError, match="LoRA adapter file not found"):
        load(tiny_models.gguf_q4_k_m, adapter=tmp_path / "gone.gguf")


def test_unreadable_manifest_is_an_error_with_a_way_out(tiny_models, tiny_adapters, tmp_path):
    adapter = tmp_path / "mira.gguf"
    shutil.copy(tiny_adapters.gguf, adapter)
    manifest_path(adapter).write_text("{not json")
    with pytest.raises(ModelError, match="cannot read the adapter manifest") as caught:
        check_adapter(adapter, tiny_models.gguf_q4_k_m)
    assert "delete it" in caught.value.hint


def test_converting_a_folder_without_an_adapter_is_refused(tiny_models, tmp_path):
    with pytest.raises(ConversionError, match="not a PEFT adapter folder"):
        convert_lora_to_gguf(tmp_path, tmp_path / "a.gguf", base_dir=tiny_models.hf_dir)
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(ConversionError, match=r"no config\.json"):
        convert_lora_to_gguf(tmp_path, tmp_path / "a.gguf", base_dir=tmp_path)


def test_a_broken_adapter_folder_fails_with_the_converters_words(tiny_models, tmp_path):
    (tmp_path / "adapter_config.json").write_text('{"lora_alpha": 16}')
    with pytest.raises(ConversionError, match="LoRA converter failed") as caught:
        convert_lora_to_gguf(tmp_path, tmp_path / "a.gguf", base_dir=tiny_models.hf_dir)
    assert "adapter_model" in caught.value.message
    assert not (tmp_path / "a.gguf").exists()
