"""A problem Hearth cannot work around (an invalid companion.toml, a bad config): the message,
the hint, and what to do — never a traceback."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from runtime.tui.messages import CompanionChanged


class ErrorScreen(Screen[None]):
    """Shows one error with its hint; R retries after the user fixed it."""

    CSS_PATH = "error.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "retry", "Retry")]

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__()
        self.message, self.hint = message, hint

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="error"):
            yield Static("Hearth cannot start the chat", id="error-title")
            yield Static(f"Problem: {self.message}", id="error-message", markup=False)
            if self.hint:
                yield Static(f"How to fix it: {self.hint}", id="error-hint", markup=False)
            yield Static("Fix it, then press R to try again (Ctrl+Q quits).", id="error-next")
        yield Footer()

    def action_retry(self) -> None:
        self.post_message(CompanionChanged(None))
