"""The Textual App: wires screens and bindings, nothing else (screens own layout)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from runtime.cli.context import CliContext
from runtime.tui.screens.welcome import WelcomeScreen


class HearthApp(App[None]):
    """Hearth's main window."""

    TITLE = "Hearth"
    SUB_TITLE = "your companion, on your machine"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False),
    ]

    def __init__(self, ctx: CliContext) -> None:
        super().__init__()
        self.hearth = ctx

    def on_mount(self) -> None:
        self.push_screen(WelcomeScreen(self.hearth))


def make_app(ctx: CliContext) -> HearthApp:
    """The app factory used by `hearth` and by tests."""
    return HearthApp(ctx)
