"""The stable head of every prompt: who the companion is (persona card) and its core memories.

Placeholders follow Character Card V2 and SillyTavern: `{{char}}` / `<BOT>` become the
companion's name and `{{user}}` / `<USER>` the user's, in any letter case (`{{Char}}`, `<bot>`).
A card's own `system_prompt` replaces Hearth's default one; `{{original}}` inside it stands for
the default, as in SillyTavern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime.companion import Companion, CoreMemory, Persona

DEFAULT_SYSTEM_PROMPT = (
    "You are {{char}}, talking with {{user}}. Stay in character: reply as {{char}} would, "
    "in {{char}}'s own voice."
)

_PLACEHOLDER = re.compile(r"\{\{\s*(char|user)\s*\}\}|<(bot|user)>", re.IGNORECASE)
_ORIGINAL = re.compile(r"\{\{\s*original\s*\}\}", re.IGNORECASE)
_START = re.compile(r"^\s*<START>\s*$", re.IGNORECASE | re.MULTILINE)


def substitute(text: str, *, char: str, user: str) -> str:
    """Replace {{char}}/<BOT> with `char` and {{user}}/<USER> with `user`, any letter case."""

    def name(match: re.Match[str]) -> str:
        which = (match.group(1) or match.group(2)).lower()
        return char if which in ("char", "bot") else user

    return _PLACEHOLDER.sub(name, text)


@dataclass(frozen=True)
class Section:
    """One labelled piece of the system text, kept apart so the context report can count it."""

    name: str
    """"persona" or "core:<label>"."""
    text: str


def persona_text(persona: Persona, *, user: str) -> str:
    """The persona as prose: system prompt, description, personality, scenario, examples."""
    main = DEFAULT_SYSTEM_PROMPT
    if persona.system_prompt.strip():
        main = _ORIGINAL.sub(lambda _m: DEFAULT_SYSTEM_PROMPT, persona.system_prompt.strip())
    parts = [main]
    if persona.description.strip():
        parts.append(persona.description.strip())
    if persona.personality.strip():
        parts.append(f"{{{{char}}}}'s personality: {persona.personality.strip()}")
    if persona.scenario.strip():
        parts.append(f"Scenario: {persona.scenario.strip()}")
    examples = _START.sub("", persona.mes_example).strip()
    if examples:
        parts.append(f"Examples of how {{{{char}}}} talks:\n{examples}")
    return substitute("\n\n".join(parts), char=persona.name, user=user)


def core_memory_text(block: CoreMemory, *, char: str, user: str) -> str:
    """One core memory block as it appears in the prompt: its label, then its text."""
    return substitute(f"[{block.label}]\n{block.text.strip()}", char=char, user=user)


def system_sections(companion: Companion, *, user: str) -> list[Section]:
    """The persona, then every non-empty core memory block, in the order they are stored."""
    char = companion.persona.name
    sections = [Section("persona", persona_text(companion.persona, user=user))]
    blocks = [block for block in companion.core_memories if block.text.strip()]
    for index, block in enumerate(blocks):
        text = core_memory_text(block, char=char, user=user)
        if index == 0:
            text = f"What {char} always remembers:\n{text}"
        sections.append(Section(f"core:{block.label}", text))
    return sections


SECTION_SEPARATOR = "\n\n"


def system_text(sections: list[Section]) -> str:
    """The sections joined into the text of the system message."""
    return SECTION_SEPARATOR.join(section.text for section in sections)


def greeting(persona: Persona, *, user: str) -> str | None:
    """The card's first message with placeholders filled in, or None when it has none."""
    text = persona.first_mes.strip()
    return substitute(text, char=persona.name, user=user) if text else None


def instructions(persona: Persona, *, user: str) -> str:
    """The card's post-history instructions (placed with the per-turn parts), or ""."""
    return substitute(persona.post_history_instructions.strip(), char=persona.name, user=user)
