"""Slash commands: parsed the same for the plain chat and the TUI."""

from __future__ import annotations

import pytest

from runtime.chat import COMMANDS, Command, help_text, parse
from runtime.errors import UsageError


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hello there\n", Command("say", "hello there")),
        ("  /regen ", Command("regen")),
        ("/retry", Command("regen")),
        ("/edit I meant Tuesday", Command("edit", "I meant Tuesday")),
        ("/alt", Command("alt")),
        ("/alt 2", Command("alt", number=2)),
        ("/undo", Command("undo")),
        ("/context", Command("context")),
        ("/context JSON", Command("context", "json")),
        ("/QUIT", Command("quit")),
        ("/exit", Command("quit")),
        ("/help", Command("help")),
        ("//slash at the start", Command("say", "/slash at the start")),
    ],
)
def test_lines_parse_to_commands(line, expected):
    assert parse(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/dance", "unknown command /dance"),
        ("/edit", "/edit needs the new text"),
        ("/alt two", "/alt needs a number"),
        ("/undo everything", "/undo takes no argument"),
        ("/context yaml", "/context takes no argument"),
    ],
)
def test_bad_commands_are_usage_errors(line, message):
    with pytest.raises(UsageError, match=message):
        parse(line)


def test_help_lists_every_command():
    text = help_text()
    assert all(f"/{name}" in text for name in COMMANDS)
