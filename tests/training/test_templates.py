"""Marked chat templates: used only when they render exactly like the model's own.

The originals are the real templates trl ships for identity checks (Qwen 2.5, Llama 3/3.1/3.2,
Gemma, Gemma 3), rendered with the tiny model's tokenizer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.errors import HearthError
from training.templates import (
    FAMILIES,
    SAMPLES,
    has_generation_markers,
    marked_template,
    render,
    renders_identically,
)
from training.tiny_model import CHAT_TEMPLATE

pytest.importorskip("trl")
ORIGINALS = {
    "qwen2_5": "chatml",
    "llama3": "llama3",
    "llama3_1": "llama3",
    "llama3_2": "llama3",
    "gemma": "gemma",
    "gemma3": "gemma",
}


def original(name: str) -> str:
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / f"{name}.jinja").read_text()


@pytest.fixture
def tokenizer(tiny_models):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_models.hf_dir)


@pytest.mark.parametrize("name", ORIGINALS)
def test_hearth_family_renders_like_the_original(tokenizer, name):
    tokenizer.chat_template = original(name)
    candidate = FAMILIES[ORIGINALS[name]](tokenizer, tokenizer.chat_template)
    assert has_generation_markers(candidate)
    assert renders_identically(tokenizer, tokenizer.chat_template, candidate)
    for other, build in FAMILIES.items():
        if other != ORIGINALS[name]:
            wrong = build(tokenizer, tokenizer.chat_template)
            assert not wrong or not renders_identically(tokenizer, tokenizer.chat_template, wrong)


@pytest.mark.parametrize("name", ORIGINALS)
def test_marked_template_masks_each_assistant_message(tokenizer, name):
    tokenizer.chat_template = original(name)
    template, origin = marked_template(tokenizer)
    assert origin in ("trl", ORIGINALS[name])
    messages = SAMPLES[1][0]
    encoded = tokenizer.apply_chat_template(
        messages, chat_template=template, tokenize=True, return_dict=True,
        return_assistant_tokens_mask=True,
    )  # fmt: skip
    masked = [
        t for t, keep in zip(encoded["input_ids"], encoded["assistant_masks"], strict=True) if keep
    ]
    text = tokenizer.decode(masked).strip()
    reply = messages[-1]["content"]
    assert text.startswith(reply) and messages[0]["content"] not in text
    assert len(text) > len(reply)  # the end-of-turn token is trained on too


def test_own_markers_are_used_as_they_are(tokenizer):
    assert marked_template(tokenizer) == (CHAT_TEMPLATE, "own")


def test_unknown_template_is_refused_with_the_flag_to_use(tokenizer):
    tokenizer.chat_template = (
        "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    )
    with pytest.raises(HearthError) as caught:
        marked_template(tokenizer)
    assert "--chat-template FILE" in caught.value.hint


def test_chat_template_file_must_render_like_the_model(tokenizer, tmp_path):
    tokenizer.chat_template = original("qwen2_5")
    good = tmp_path / "good.jinja"
    good.write_text(FAMILIES["chatml"](tokenizer, tokenizer.chat_template))
    assert marked_template(tokenizer, good)[1] == "file"
    different = tmp_path / "different.jinja"
    different.write_text(CHAT_TEMPLATE)  # ChatML without Qwen's default system prompt
    with pytest.raises(HearthError, match="does not render like"):
        marked_template(tokenizer, different)
    unmarked = tmp_path / "unmarked.jinja"
    unmarked.write_text(tokenizer.chat_template)
    with pytest.raises(HearthError, match=r"no \{% generation %\} markers"):
        marked_template(tokenizer, unmarked)


def test_no_template_at_all(tokenizer):
    tokenizer.chat_template = None
    with pytest.raises(HearthError, match="no chat template"):
        marked_template(tokenizer)


def test_samples_render_with_the_tiny_template(tokenizer):
    for messages, prompt in SAMPLES:
        assert render(tokenizer, CHAT_TEMPLATE, messages, prompt).count("<|im_start|>") >= 2
