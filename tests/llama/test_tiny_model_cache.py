"""Tiny model builder: cached once per version, atomically; the template marks assistant turns."""

from __future__ import annotations

from pathlib import Path

import pytest

from training import tiny_model
from training.tiny_model import TinyModels, build_test_models


@pytest.fixture
def builds(monkeypatch):
    calls: list[Path] = []

    def fake_build(out_dir: Path, *, sources: Path | None = None) -> TinyModels:
        calls.append(out_dir)
        models = TinyModels(out_dir)
        models.hf_dir.mkdir(parents=True)
        models.gguf_f16.write_bytes(b"GGUF f16")
        models.gguf_q4_k_m.write_bytes(b"GGUF q4")
        return models

    monkeypatch.setattr(tiny_model, "build_tiny_models", fake_build)
    return calls


def test_builds_once_then_reuses(tmp_path, builds):
    first = build_test_models(tmp_path, "v1")
    second = build_test_models(tmp_path, "v1")
    assert first == second == TinyModels(tmp_path / "v1")
    assert len(builds) == 1
    assert builds[0].parent == tmp_path and builds[0].name.startswith(".v1.")
    assert first.gguf_q4_k_m.read_bytes() == b"GGUF q4"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".v1.lock", "v1"]


def test_new_version_builds_again(tmp_path, builds):
    build_test_models(tmp_path, "v1")
    build_test_models(tmp_path, "v2")
    assert len(builds) == 2


def test_failed_build_leaves_no_directory(tmp_path, monkeypatch):
    def broken(out_dir: Path, *, sources: Path | None = None) -> TinyModels:
        (out_dir / "half-written").write_text("x")
        raise RuntimeError("boom")

    monkeypatch.setattr(tiny_model, "build_tiny_models", broken)
    with pytest.raises(RuntimeError):
        build_test_models(tmp_path, "v1")
    assert [p.name for p in tmp_path.iterdir()] == [".v1.lock"]


def test_chat_template_marks_exactly_the_assistant_turn_for_training():
    texts = [pair["assistant"] for pair in tiny_model.load_tiny_chats()]
    tokenizer = tiny_model.chat_tokenizer(tiny_model.train_tokenizer(texts))
    messages = [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "你好"},
        {"role": "assistant", "content": "안녕! 😊"},
    ]
    encoded = tokenizer.apply_chat_template(
        messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    pairs = zip(encoded["input_ids"], encoded["assistant_masks"], strict=True)
    marked = [token for token, mask in pairs if mask]
    assert tokenizer.decode(marked) == "안녕! 😊<|im_end|>"
    assert tokenizer.eos_token == tiny_model.END_OF_TURN
