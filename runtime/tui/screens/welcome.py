"""The first screen: which companions and models Hearth found, and what to do next.

A stand-in main screen until the chat UI lands; it must never show a traceback, so errors
found while looking (an invalid companion.toml) are shown as text with their hint.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from runtime.cli.context import CliContext
from runtime.companions import CompanionRegistry
from runtime.errors import HearthError


def describe_companions(ctx: CliContext) -> str:
    """A short text listing companions, or how to create the first one."""
    try:
        entries = CompanionRegistry(ctx.home).all()
    except HearthError as exc:
        return f"Could not read companions: {exc.message}\n{exc.hint or ''}"
    if not entries:
        return (
            "No companion yet.\n"
            "  Create one:        hearth companion new NAME\n"
            "  From a card:       hearth companion new NAME --card CARD.png"
        )
    lines = [f"Companions ({len(entries)}):"]
    for entry in entries:
        model = entry.companion.model.chat
        lines.append(f"  • {entry.name}  —  model: {Path(model).name if model else 'not chosen'}")
    return "\n".join(lines)


def describe_models(ctx: CliContext) -> str:
    """A short text listing GGUF models found, or how to get one."""
    from runtime.models.discovery import discover_models

    try:
        found = discover_models(ctx.home, ctx.config)
    except HearthError as exc:
        return f"Could not look for models: {exc.message}"
    if not found:
        return "No models found.\n  Put a .gguf file in models/ or run:  hearth model pull --list"
    lines = [f"Models ({len(found)}):"]
    lines += [f"  • {model.name}  ({model.path})" for model in found[:8]]
    return "\n".join(lines)


class WelcomeScreen(Screen[None]):
    """Home screen: companions, models, next steps."""

    CSS_PATH = "welcome.tcss"

    def __init__(self, ctx: CliContext) -> None:
        super().__init__()
        self.ctx = ctx

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="welcome"):
            yield Static("Welcome to Hearth.", id="greeting")
            yield Static(describe_companions(self.ctx), id="companions")
            yield Static(describe_models(self.ctx), id="models")
            yield Static(f"Data home: {self.ctx.home.root}", id="home")
        yield Footer()
