"""The chat template training renders with: the model's own, with `{% generation %}` markers.

Loss falls only on what the assistant says, which the tokenizer finds through the template's
`{% generation %}…{% endgeneration %}` blocks. Most released templates have none. Then, in order:
a template given with `--chat-template FILE`; trl's patched template for the families it knows;
Hearth's marked templates for ChatML (Qwen 2/2.5 and others), Llama 3/3.1/3.2, Gemma and
Mistral. A candidate is used only if it renders **byte-identically** to the model's own template
on sample conversations (with and without a system prompt, several turns, a generation prompt),
so the model trains on exactly the text it will see in chat. Nothing matches → a HearthError
that says to pass `--chat-template FILE`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.errors import HearthError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

GENERATION_MARKER = re.compile(r"\{%-?\s*generation\s*-?%\}")
TEMPLATE_HINT = (
    "pass a template with {% generation %} markers around the assistant's text that renders "
    "exactly like the model's own: --chat-template FILE"
)

_S, _U1, _A1, _U2, _A2 = (
    "You are Mira, a calm friend.",
    "Hi! How was your day?",
    "Quiet and good. I read by the window.",
    "什么书？",
    "A book about the sea 🌊.",
)
# (messages, add_generation_prompt): what a candidate must render exactly like the original.
SAMPLES: list[tuple[list[dict[str, str]], bool]] = [
    ([{"role": "system", "content": _S}, {"role": "user", "content": _U1},
      {"role": "assistant", "content": _A1}, {"role": "user", "content": _U2},
      {"role": "assistant", "content": _A2}], False),
    ([{"role": "user", "content": _U1}, {"role": "assistant", "content": _A1}], False),
    ([{"role": "user", "content": _U1}, {"role": "assistant", "content": _A1},
      {"role": "user", "content": _U2}], True),
    ([{"role": "system", "content": _S}, {"role": "user", "content": _U2}], True),
]  # fmt: skip
SENTINEL_SYSTEM = "HEARTH-SYSTEM-SENTINEL"
SENTINEL_USER = "HEARTH-USER-SENTINEL"


def has_generation_markers(template: str | None) -> bool:
    """Whether `template` marks the assistant's text for the loss mask."""
    return bool(template) and GENERATION_MARKER.search(template) is not None


def own_template(tokenizer: PreTrainedTokenizerBase) -> str:
    """The model's chat template (the `default` one when it ships several)."""
    template = tokenizer.chat_template
    if isinstance(template, dict):
        template = template.get("default")
    if not template:
        raise HearthError(
            "the base model's tokenizer has no chat template",
            hint="use an instruct/chat model, or " + TEMPLATE_HINT,
        )
    return template


def render(
    tokenizer: PreTrainedTokenizerBase,
    template: str,
    messages: list[dict[str, str]],
    add_generation_prompt: bool = False,
) -> str:
    """`messages` rendered as text through `template` (special tokens passed like transformers)."""
    return tokenizer.apply_chat_template(
        messages,
        chat_template=template,
        tokenize=False,
        add_generation_prompt=add_generation_prompt,
    )


def renders_identically(tokenizer: PreTrainedTokenizerBase, original: str, candidate: str) -> bool:
    """True when `candidate` renders every sample the original can render, byte for byte.

    Samples the original refuses (Gemma 2 raises on a system message) are skipped; at least two
    must render.
    """
    compared = 0
    for messages, prompt in SAMPLES:
        try:
            expected = render(tokenizer, original, messages, prompt)
        except Exception:
            continue
        try:
            actual = render(tokenizer, candidate, messages, prompt)
        except Exception:
            return False
        if actual != expected:
            return False
        compared += 1
    return compared >= 2


def _literal(text: str) -> str:
    """`text` as a Jinja string literal."""
    return json.dumps(text, ensure_ascii=False)


def _chatml(tokenizer: PreTrainedTokenizerBase, original: str) -> str | None:
    """ChatML; a default system prompt (Qwen's "You are Qwen…") is read off the original."""
    if "<|im_start|>" not in original:
        return None
    text = render(tokenizer, original, [{"role": "user", "content": SENTINEL_USER}])
    default = ""
    head = "<|im_start|>system\n"
    if text.startswith(head) and "<|im_end|>\n" in text:
        default = text[len(head) : text.index("<|im_end|>\n")]
    return (
        "{%- if messages and messages[0]['role'] != 'system' and " + _literal(default) + " -%}"
        "{{- '<|im_start|>system\\n' + " + _literal(default) + " + '<|im_end|>\\n' -}}"
        "{%- endif -%}"
        "{%- for message in messages -%}"
        "{%- if message['role'] == 'assistant' -%}"
        "{{- '<|im_start|>assistant\\n' -}}"
        "{%- generation -%}{{- message['content'] + '<|im_end|>' -}}{%- endgeneration -%}"
        "{{- '\\n' -}}"
        "{%- else -%}"
        "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
        "{%- endif -%}"
        "{%- endfor -%}"
        "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
    )


def _llama3(tokenizer: PreTrainedTokenizerBase, original: str) -> str | None:
    """Llama 3 / 3.1 / 3.2: the system preamble (knowledge and today's date) is read off."""
    if "<|start_header_id|>" not in original:
        return None
    header = "<|start_header_id|>{}<|end_header_id|>\n\n"
    bos = tokenizer.bos_token or ""
    plain = render(tokenizer, original, [{"role": "user", "content": SENTINEL_USER}])
    with_system = render(
        tokenizer,
        original,
        [
            {"role": "system", "content": SENTINEL_SYSTEM},
            {"role": "user", "content": SENTINEL_USER},
        ],
    )
    user_header = header.format("user")
    system_header = header.format("system")
    if user_header not in plain or system_header not in with_system:
        return None
    no_system = plain[: plain.index(user_header)].removeprefix(bos)
    preamble = with_system.split(system_header, 1)[1].split(SENTINEL_SYSTEM, 1)[0]
    return (
        "{{- bos_token -}}"
        "{%- if messages and messages[0]['role'] == 'system' -%}"
        "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' + " + _literal(preamble) + " + "
        "messages[0]['content'] | trim + '<|eot_id|>' -}}"
        "{%- set rest = messages[1:] -%}"
        "{%- else -%}{{- " + _literal(no_system) + " -}}{%- set rest = messages -%}{%- endif -%}"
        "{%- for message in rest -%}"
        "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' -}}"
        "{%- if message['role'] == 'assistant' -%}"
        "{%- generation -%}{{- message['content'] | trim + '<|eot_id|>' -}}{%- endgeneration -%}"
        "{%- else -%}{{- message['content'] | trim + '<|eot_id|>' -}}{%- endif -%}"
        "{%- endfor -%}"
        "{%- if add_generation_prompt -%}"
        "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{%- endif -%}"
    )


def _gemma(tokenizer: PreTrainedTokenizerBase, original: str) -> str | None:
    """Gemma 1/2/3: `model` turns; a system prompt opens the first user turn (Gemma 3)."""
    if "<start_of_turn>" not in original:
        return None
    return (
        "{{- bos_token -}}"
        "{%- if messages and messages[0]['role'] == 'system' -%}"
        "{%- set prefix = messages[0]['content'] + '\\n\\n' -%}{%- set rest = messages[1:] -%}"
        "{%- else -%}{%- set prefix = '' -%}{%- set rest = messages -%}{%- endif -%}"
        "{%- for message in rest -%}"
        "{%- if message['role'] == 'assistant' -%}"
        "{{- '<start_of_turn>model\\n' -}}"
        "{%- generation -%}{{- message['content'] | trim + '<end_of_turn>' -}}{%- endgeneration -%}"
        "{{- '\\n' -}}"
        "{%- else -%}"
        "{{- '<start_of_turn>' + message['role'] + '\\n' + (prefix if loop.first else '') + "
        "message['content'] | trim + '<end_of_turn>\\n' -}}"
        "{%- endif -%}"
        "{%- endfor -%}"
        "{%- if add_generation_prompt -%}{{- '<start_of_turn>model\\n' -}}{%- endif -%}"
    )


def _mistral(tokenizer: PreTrainedTokenizerBase, original: str) -> str | None:
    """Mistral v0.3 style: the system prompt joins the last user message."""
    if "[INST]" not in original:
        return None
    return (
        "{%- if messages and messages[0]['role'] == 'system' -%}"
        "{%- set system_message = messages[0]['content'] -%}{%- set rest = messages[1:] -%}"
        "{%- else -%}{%- set rest = messages -%}{%- endif -%}"
        "{{- bos_token -}}"
        "{%- for message in rest -%}"
        "{%- if message['role'] == 'user' -%}"
        "{%- if loop.last and system_message is defined -%}"
        "{{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' -}}"
        "{%- else -%}{{- '[INST] ' + message['content'] + '[/INST]' -}}{%- endif -%}"
        "{%- elif message['role'] == 'assistant' -%}"
        "{{- ' ' -}}"
        "{%- generation -%}{{- message['content'] | trim + eos_token -}}{%- endgeneration -%}"
        "{%- endif -%}"
        "{%- endfor -%}"
    )


FAMILIES: dict[str, Callable[[PreTrainedTokenizerBase, str], str | None]] = {
    "chatml": _chatml,
    "llama3": _llama3,
    "gemma": _gemma,
    "mistral": _mistral,
}


def _trl_candidate(tokenizer: PreTrainedTokenizerBase) -> str | None:
    """trl's patched template when the original is one trl knows verbatim."""
    try:
        from trl.chat_template_utils import get_training_chat_template

        return get_training_chat_template(tokenizer)
    except Exception:
        return None


def marked_template(
    tokenizer: PreTrainedTokenizerBase, override: Path | None = None
) -> tuple[str, str]:
    """A template with generation markers that renders like the model's own, and its origin.

    The origin is `own`, `file`, `trl` or a family name (`chatml`, `llama3`, …).
    """
    original = own_template(tokenizer)
    if override is not None:
        try:
            candidate = Path(override).read_text(encoding="utf-8")
        except OSError as exc:
            raise HearthError(f"cannot read --chat-template {override}: {exc.strerror}") from exc
        if not has_generation_markers(candidate):
            raise HearthError(
                f"--chat-template {override} has no {{% generation %}} markers", hint=TEMPLATE_HINT
            )
        if not renders_identically(tokenizer, original, candidate):
            raise HearthError(
                f"--chat-template {override} does not render like the model's own template",
                hint="remove everything but the {% generation %} markers from your changes",
            )
        return candidate, "file"
    if has_generation_markers(original):
        return original, "own"
    candidates: list[tuple[str, str | None]] = [("trl", _trl_candidate(tokenizer))]
    for name, build in FAMILIES.items():
        try:
            candidates.append((name, build(tokenizer, original)))
        except Exception:
            continue
    for name, candidate in candidates:
        if candidate and renders_identically(tokenizer, original, candidate):
            return candidate, name
    raise HearthError(
        "the base model's chat template has no {% generation %} markers and Hearth has no "
        "verified marked version of it",
        hint=TEMPLATE_HINT,
    )
