"""Chat templates: rendered like llama-cpp-python, probed for what they accept, ChatML fallback."""

from __future__ import annotations

import pytest

from runtime.engine import ChatTemplate, TemplateError, TemplateTraits
from tests.chat.templates import LLAMA3, MOVING_SYSTEM, NO_SYSTEM, STRICT


def template(source: str | None) -> ChatTemplate:
    return ChatTemplate(source, bos_token="<s>", eos_token="</s>")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (LLAMA3, TemplateTraits(True, True, True, True)),
        (STRICT, TemplateTraits(True, False, False, True)),
        (MOVING_SYSTEM, TemplateTraits(True, False, True, False)),
        (NO_SYSTEM, TemplateTraits(False, False, False, True)),
    ],
    ids=["llama3", "strict", "moving-system", "no-system"],
)
def test_traits_are_probed_from_the_template(source, expected):
    assert template(source).traits == expected


@pytest.mark.slow
def test_the_tiny_models_template_takes_everything(engine):
    assert engine.template.origin == "gguf"
    assert engine.template.traits == TemplateTraits(True, True, True, True)


def test_no_template_falls_back_to_chatml():
    chatml = template(None)
    assert chatml.origin.startswith("fallback: ChatML")
    text = chatml.render([{"role": "user", "content": "hi"}])
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert chatml.render([{"role": "user", "content": "hi"}], add_generation_prompt=False) == (
        "<|im_start|>user\nhi<|im_end|>\n"
    )


def test_a_template_that_does_not_compile_is_a_template_error():
    with pytest.raises(TemplateError, match="cannot be compiled"):
        template("{% for message in messages %}")


def test_a_rejected_conversation_is_a_template_error():
    with pytest.raises(TemplateError, match="roles must alternate"):
        template(STRICT).render([{"role": "assistant", "content": "hello"}])
