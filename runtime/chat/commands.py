"""Slash commands typed in a chat (`/regen`, `/edit TEXT`, `/alt N`, …), the same for every UI.

A line that does not start with "/" is a message. "//" at the start sends a message that begins
with a single "/".
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime.errors import UsageError

COMMANDS: dict[str, str] = {
    "regen": "write another reply to your last message (the old one is kept)",
    "edit": "/edit TEXT — replace your last message with TEXT and get a new reply",
    "alt": "/alt N — show alternative N at the latest branch; /alt alone lists them",
    "undo": "delete your last message and the reply to it",
    "context": "what the model saw for the last reply (/context json for JSON)",
    "help": "this list",
    "quit": "leave the chat",
}
ALIASES = {"regenerate": "regen", "retry": "regen", "exit": "quit", "q": "quit", "?": "help"}


@dataclass(frozen=True)
class Command:
    """A parsed line: `name` is a command from COMMANDS, or "say" for a plain message."""

    name: str
    text: str = ""
    """The message for "say", the new text for "edit", "json" for "context"."""
    number: int | None = None
    """The alternative for "alt" (None: list them)."""


def parse(line: str) -> Command:
    """Parse one input line; an unknown command or a bad argument is a UsageError."""
    stripped = line.strip()
    if not stripped.startswith("/"):
        return Command("say", line.rstrip("\r\n"))
    if stripped.startswith("//"):
        return Command("say", stripped[1:])
    word, _, rest = stripped[1:].partition(" ")
    name = ALIASES.get(word.lower(), word.lower())
    rest = rest.strip()
    if name not in COMMANDS:
        raise UsageError(f"unknown command /{word}", hint="/help lists the commands")
    if name == "edit":
        if not rest:
            raise UsageError("/edit needs the new text", hint="/edit NEW TEXT")
        return Command(name, rest)
    if name == "alt":
        if not rest:
            return Command(name)
        if not rest.isdigit():
            raise UsageError(f"/alt needs a number, not {rest!r}", hint="/alt 2")
        return Command(name, number=int(rest))
    if name == "context" and rest.lower() in ("", "json"):
        return Command(name, rest.lower())
    if rest:
        raise UsageError(f"/{name} takes no argument", hint="/help lists the commands")
    return Command(name)


def help_text() -> str:
    """The command list, one per line."""
    return "\n".join(f"/{name:<8} {text}" for name, text in COMMANDS.items())
