"""The message box: multi-line; Enter sends, Ctrl+J (or Shift+Enter where the terminal
reports it) starts a new line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = ("ctrl+j", "shift+enter", "alt+enter")


class ChatInput(TextArea):
    """A TextArea that submits on Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Send")]
    """Shown in the footer; the Enter key itself is handled in `_on_key` (before TextArea's
    own handling, which would insert a new line), so this fires only from a footer click."""

    @dataclass
    class Submitted(Message):
        """The user pressed Enter with this text (not yet cleared)."""

        input: ChatInput
        text: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__(placeholder="Say something…  (Enter sends, Ctrl+J new line)", **kwargs)  # type: ignore[arg-type]

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        """Send the text (as Enter does)."""
        self.post_message(self.Submitted(self, self.text))

    def put_back(self, text: str) -> None:
        """Restore text the user typed (after a failure), cursor at the end."""
        self.text = text
        self.move_cursor(self.document.end)
        self.focus()
