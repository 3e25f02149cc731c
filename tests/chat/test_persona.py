"""The persona and core memories as system text; placeholders; the greeting."""

from __future__ import annotations

import pytest

from runtime.companion import Companion, CoreMemory, Persona
from runtime.prompt.persona import (
    DEFAULT_SYSTEM_PROMPT,
    greeting,
    instructions,
    persona_text,
    substitute,
    system_sections,
    system_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{char}} greets {{user}}", "Mira greets Sam"),
        ("{{Char}} and {{USER}}", "Mira and Sam"),
        ("<BOT> waves at <user>", "Mira waves at Sam"),
        ("{{ char }}!", "Mira!"),
        ("{{original}} {{charx}} <BOTS>", "{{original}} {{charx}} <BOTS>"),
    ],
)
def test_placeholders_are_substituted_in_any_case(text, expected):
    assert substitute(text, char="Mira", user="Sam") == expected


def test_persona_text_has_every_card_field_in_order():
    persona = Persona(
        name="Mira",
        description="A lighthouse keeper.",
        personality="warm, dry humour",
        scenario="{{user}} visits at dusk",
        mes_example="<START>\n{{user}}: Hi\n{{char}}: Hello, <USER>.",
        creator_notes="never sent to the model",
    )
    text = persona_text(persona, user="Sam")
    expected = [
        "You are Mira, talking with Sam.",
        "A lighthouse keeper.",
        "Mira's personality: warm, dry humour",
        "Scenario: Sam visits at dusk",
        "Examples of how Mira talks:\nSam: Hi\nMira: Hello, Sam.",
    ]
    positions = [text.index(part) for part in expected]
    assert positions == sorted(positions)
    assert "<START>" not in text and "never sent" not in text and "{{" not in text


def test_a_cards_system_prompt_replaces_the_default_and_can_include_it():
    persona = Persona(name="Mira", system_prompt="Be {{char}}. {{original}}")
    default = substitute(DEFAULT_SYSTEM_PROMPT, char="Mira", user="Sam")
    assert persona_text(persona, user="Sam") == f"Be Mira. {default}"
    assert persona_text(Persona(name="Mira", system_prompt="Only this."), user="Sam") == (
        "Only this."
    )


def test_core_memories_follow_the_persona_and_empty_blocks_are_skipped():
    companion = Companion(
        persona=Persona(name="Mira"),
        core_memories=[
            CoreMemory(label="user", text="{{user}} loves green tea"),
            CoreMemory(label="empty", text="  "),
            CoreMemory(label="relationship", text="Friends since spring"),
        ],
    )
    sections = system_sections(companion, user="Sam")
    assert [s.name for s in sections] == ["persona", "core:user", "core:relationship"]
    assert sections[1].text == "What Mira always remembers:\n[user]\nSam loves green tea"
    assert sections[2].text == "[relationship]\nFriends since spring"
    assert system_text(sections).endswith("[relationship]\nFriends since spring")


def test_greeting_and_instructions_fill_placeholders():
    persona = Persona(
        name="Mira",
        first_mes="  Hi {{user}}, I'm <BOT>.  ",
        post_history_instructions="Reply as {{char}}.",
    )
    assert greeting(persona, user="Sam") == "Hi Sam, I'm Mira."
    assert greeting(Persona(name="Mira"), user="Sam") is None
    assert instructions(persona, user="Sam") == "Reply as Mira."
