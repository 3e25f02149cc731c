"""The model's chat template: render a conversation exactly as llama-cpp-python would.

The template comes from the GGUF metadata (`tokenizer.chat_template`), the same one the model
was trained with (DESIGN: training and chat share one template). It is rendered in a sandboxed
jinja2 environment by llama-cpp-python's own `Jinja2ChatFormatter`, which also accepts the
`{% generation %}` markers of training templates. A GGUF without a template falls back to
ChatML, and says so in `origin`.

Templates differ in what they accept — a system message at all, one later in the conversation,
an assistant message before the first user message — so `probe_traits` renders a few tiny
conversations once and prompt assembly lays the prompt out accordingly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from runtime.engine.errors import TemplateError

ChatMessage = dict[str, str]
"""{"role": "system" | "user" | "assistant", "content": text}: what a chat template renders."""

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

_SYSTEM = "hearth-probe-system"
_USER = "hearth-probe-user"
_REPLY = "hearth-probe-reply"
_LATE = "hearth-probe-late-system"
_NEXT = "hearth-probe-next-user"


@dataclass(frozen=True)
class TemplateTraits:
    """What a chat template accepts, found by rendering probe conversations."""

    system: bool
    """A leading system message appears in the output."""
    late_system: bool
    """A system message between turns appears where it was put (before the next user turn)."""
    assistant_first: bool
    """An assistant message may come right after the system message (a stored greeting)."""
    stable_prefix: bool
    """Rendering a conversation, then the same one with one more exchange, gives a prompt that
    starts with the first rendering byte for byte: what llama.cpp's prefix cache needs."""


class ChatTemplate:
    """A compiled chat template with the model's special tokens."""

    def __init__(self, source: str | None, *, bos_token: str, eos_token: str) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.origin = "gguf" if source else "fallback: ChatML (the model has no chat template)"
        self.source = source or CHATML
        try:
            self._formatters = {
                flag: Jinja2ChatFormatter(
                    template=self.source,
                    eos_token=eos_token,
                    bos_token=bos_token,
                    add_generation_prompt=flag,
                )
                for flag in (False, True)
            }
        except Exception as exc:  # jinja2 raises several types for a template it cannot parse
            raise TemplateError(
                f"the model's chat template cannot be compiled: {exc}",
                hint="the GGUF's tokenizer.chat_template is broken; use another model file",
            ) from exc

    def render(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True) -> str:
        """The prompt text for `messages`, ending with the assistant header when asked."""
        formatter = self._formatters[add_generation_prompt]
        try:
            return formatter(messages=list(messages)).prompt
        except Exception as exc:  # raise_exception() in templates raises ValueError; jinja2 others
            raise TemplateError(
                f"the model's chat template rejected the conversation: {exc}",
                hint="this model's template expects a different order of messages; "
                "try another model",
            ) from exc

    @cached_property
    def traits(self) -> TemplateTraits:
        """What this template accepts (rendered once, then cached)."""
        return probe_traits(self)


def _shows(template: ChatTemplate, messages: list[ChatMessage], *needles: str) -> bool:
    """True when the template renders `messages` with every needle present, in order."""
    try:
        text = template.render(messages)
    except TemplateError:
        return False
    position = 0
    for needle in needles:
        position = text.find(needle, position)
        if position < 0:
            return False
    return True


def _msg(role: str, content: str) -> ChatMessage:
    return {"role": role, "content": content}


def probe_traits(template: ChatTemplate) -> TemplateTraits:
    """Render small probe conversations to learn what `template` accepts."""
    system = _shows(template, [_msg("system", _SYSTEM), _msg("user", _USER)], _SYSTEM, _USER)
    opening = [_msg("system", _SYSTEM)] if system else []
    late = [
        *opening,
        _msg("user", _USER),
        _msg("assistant", _REPLY),
        _msg("system", _LATE),
        _msg("user", _NEXT),
    ]
    greeting_first = [*opening, _msg("assistant", _REPLY), _msg("user", _USER)]
    stable = False
    first = [*opening, _msg("user", _USER)]
    try:
        before = template.render(first, add_generation_prompt=False)
        after = template.render(
            [*first, _msg("assistant", _REPLY), _msg("user", _NEXT)], add_generation_prompt=True
        )
        stable = after.startswith(before)
    except TemplateError:
        pass
    return TemplateTraits(
        system=system,
        late_system=system and _shows(template, late, _REPLY, _LATE, _NEXT),
        assistant_first=_shows(template, greeting_first, _REPLY, _USER),
        stable_prefix=stable,
    )
