"""Presets, config files, flags; hardware checks; base resolution; the loss mask (no training)."""

from __future__ import annotations

import json

import pytest

from runtime.errors import ConfigError, HearthError, NotFoundError, UsageError
from training.presets import PRESETS, TrainConfig, resolve_config


def test_presets_document_their_target():
    assert set(PRESETS) == {"cpu-tiny", "12gb", "24gb"}
    twelve = resolve_config("12gb")
    assert (twelve.quantization, twelve.dtype, twelve.lora_r) == ("nf4", "bfloat16", 16)
    assert (twelve.batch_size, twelve.grad_accum, twelve.max_length) == (1, 16, 2048)
    assert twelve.gradient_checkpointing and twelve.optim == "paged_adamw_8bit"
    assert twelve.target_vram_gb == 12 and resolve_config("24gb").target_vram_gb == 24
    assert resolve_config("cpu-tiny").dtype == "float32"


def test_file_overrides_preset_and_flags_override_file(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text("lora_r = 4\nmax_steps = 7\nlearning_rate = 1e-3\n")
    config = resolve_config("12gb", toml, {"max_steps": 3, "epochs": None})
    assert (config.lora_r, config.max_steps, config.learning_rate) == (4, 3, 1e-3)
    assert config.quantization == "nf4" and config.preset == "12gb"
    as_json = tmp_path / "run.json"
    as_json.write_text(json.dumps({"lora_alpha": 8}))
    assert resolve_config("cpu-tiny", as_json).lora_alpha == 8
    table = tmp_path / "table.toml"
    table.write_text("[train]\nlora_r = 2\n")
    assert resolve_config("cpu-tiny", table).lora_r == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lora_rank = 4\n", "lora_rank"),
        ("lora_r = 0\n", "lora_r"),
        ("use_dora = true\n", "use_dora is not supported"),
        ("use_rslora = true\n", "use_rslora is not supported"),
        ("lora_r = \n", "not valid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        resolve_config("cpu-tiny", path)


def test_unknown_preset():
    with pytest.raises(UsageError) as caught:
        resolve_config("8gb")
    assert "cpu-tiny" in caught.value.hint


def test_qlora_without_cuda_is_refused_or_runs_on_the_cpu(monkeypatch):
    from training import trainer_model

    monkeypatch.setattr(trainer_model, "has_cuda", lambda: False)
    monkeypatch.setattr(trainer_model, "has_bitsandbytes", lambda: False)
    config = resolve_config("12gb")
    with pytest.raises(HearthError, match=r"needs a CUDA GPU and bitsandbytes"):
        trainer_model.check_hardware(config)
    fallback = trainer_model.check_hardware(config, allow_cpu_fallback=True)
    assert (fallback.quantization, fallback.dtype, fallback.optim) == (
        "none",
        "float32",
        "adamw_torch",
    )
    assert fallback.lora_r == 16 and fallback.gradient_checkpointing
    assert trainer_model.check_hardware(TrainConfig()) == TrainConfig()
    monkeypatch.setattr(trainer_model, "has_bitsandbytes", lambda: True)
    with pytest.raises(HearthError, match=r"needs a CUDA GPU$"):
        trainer_model.check_hardware(config)
    on_cpu = trainer_model.check_hardware(config, allow_cpu_fallback=True)
    assert (on_cpu.quantization, on_cpu.dtype, on_cpu.optim) == ("nf4", "float32", "adamw_8bit")


def test_base_repo_id_only_from_the_local_cache(tmp_path, monkeypatch):
    from training.trainer_model import resolve_base

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(NotFoundError) as caught:
        resolve_base("someone/some-model")
    assert "hf download someone/some-model" in caught.value.hint
    (tmp_path / "folder").mkdir()
    with pytest.raises(NotFoundError, match=r"no config\.json"):
        resolve_base(str(tmp_path / "folder"))


def test_weight_zero_replies_are_context(tiny_models):
    from transformers import AutoTokenizer

    from training.tiny_model import CHAT_TEMPLATE
    from training.trainer_data import encode

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.hf_dir)
    messages = [
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello there.", "weight": 0},
        {"role": "user", "content": "Tea?"},
        {"role": "assistant", "content": "Mint, always mint."},
    ]
    row = encode(tokenizer, CHAT_TEMPLATE, messages)
    trained = [t for t, keep in zip(row["input_ids"], row["assistant_masks"], strict=True) if keep]
    assert tokenizer.decode(trained) == "Mint, always mint.<|im_end|>"
    messages[1]["weight"] = 1
    row = encode(tokenizer, CHAT_TEMPLATE, messages)
    trained = [t for t, keep in zip(row["input_ids"], row["assistant_masks"], strict=True) if keep]
    assert tokenizer.decode(trained) == "Hello there.<|im_end|>Mint, always mint.<|im_end|>"


def test_missing_or_broken_dataset(tmp_path):
    from training.trainer_data import read_jsonl

    with pytest.raises(NotFoundError) as caught:
        read_jsonl(tmp_path / "train.jsonl")
    assert "hearth train dataset" in caught.value.hint
    broken = tmp_path / "eval.jsonl"
    broken.write_text('{"messages": []}\nnot json\n')
    with pytest.raises(HearthError, match=r"eval\.jsonl:2 is not JSON"):
        read_jsonl(broken)
