"""Turn the prompt's parts into the chat messages a model's template can render.

The order is always: system text (persona + core memories), history, per-turn parts (retrieved
memories, date/time, the card's post-history instructions), newest user message. Where each
part goes depends on what the template accepts (`TemplateTraits`):

- system text: a system message when the template renders one *and* keeps it in place as the
  conversation grows (some templates move the system text to the last user turn, which would
  change the prompt's start every turn); otherwise the text opens the first user message.
- per-turn parts: a system message just before the newest user message when the template allows
  one there; otherwise they open the newest user message. Never in the leading system message:
  they change every turn, and anything that changes invalidates the KV cache from that point on.

Consecutive messages with the same role are merged (an unanswered message followed by another),
because many templates insist that user and assistant alternate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runtime.engine.template import ChatMessage, TemplateTraits

PART_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Layout:
    """Where the system text and the per-turn parts go for one template."""

    system_message: bool
    """System text in a system message (else at the start of the first user message)."""
    late_system: bool
    """Per-turn parts in a system message before the newest turn (else inside that turn)."""

    @classmethod
    def for_traits(cls, traits: TemplateTraits) -> Layout:
        """The cache-friendliest layout this template supports."""
        system = traits.system and traits.stable_prefix and traits.assistant_first
        return cls(system_message=system, late_system=system and traits.late_system)

    def describe(self) -> str:
        """One line for the context report."""
        head = "system message" if self.system_message else "first user message"
        tail = "a system message" if self.late_system else "the newest user message"
        return f"persona in the {head}; per-turn parts in {tail}"


def merge_roles(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Join consecutive messages of the same role, so user and assistant alternate."""
    merged: list[ChatMessage] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            joined = merged[-1]["content"] + PART_SEPARATOR + message["content"]
            merged[-1] = {"role": message["role"], "content": joined}
        else:
            merged.append(dict(message))
    return merged


def arrange(
    layout: Layout,
    system: str,
    history: Sequence[ChatMessage],
    per_turn: str,
    newest: str,
) -> list[ChatMessage]:
    """The messages to render, in Hearth's order (see the module docstring).

    `history` is the kept part of the conversation, `newest` the user message being answered.
    """
    dialogue = merge_roles([*history, {"role": "user", "content": newest}])
    *before, last = dialogue
    if per_turn and not layout.late_system:
        last = {"role": "user", "content": per_turn + PART_SEPARATOR + last["content"]}
    tail = [{"role": "system", "content": per_turn}] if per_turn and layout.late_system else []
    body = [*before, *tail, last]
    if layout.system_message:
        return [{"role": "system", "content": system}, *body]
    if body[0]["role"] == "user":
        first = {"role": "user", "content": system + PART_SEPARATOR + body[0]["content"]}
        return [first, *body[1:]]
    return [{"role": "user", "content": system}, *body]
