"""One message of the conversation: who, which alternative ("2/3"), and the text as Markdown.

Focus a message (Ctrl+O, then Up/Down) to act on it; the screen does the work when the widget
posts `Action`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.widgets import Markdown, Static

from runtime.store import PathStep


def header_text(step: PathStep, companion: str) -> str:
    """'Mira · reply 2/3 · stopped' — words and numbers, never colour alone."""
    message = step.message
    who = companion if message.role == "assistant" else "You"
    bits = [who]
    if step.alternatives > 1:
        kind = "reply" if message.role == "assistant" else "version"
        bits.append(f"{kind} {step.position}/{step.alternatives}  ◀ ▶")
    if message.partial:
        bits.append("stopped (partial)")
    return " · ".join(bits)


class MessageView(Vertical, can_focus=True):
    """A message on the active path."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,[", "act('previous')", "Prev alt"),
        Binding("right,]", "act('next')", "Next alt"),
        Binding("r", "act('regenerate')", "Regenerate"),
        Binding("e", "act('edit')", "Edit"),
        Binding("c", "act('copy')", "Copy"),
        Binding("d,delete", "act('delete')", "Delete branch"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("escape,i", "act('input')", "Back to input", show=False),
    ]

    @dataclass
    class Action(TextualMessage):
        """The user asked for `action` on this message."""

        view: MessageView
        action: str

    def __init__(self, step: PathStep | None, companion: str, *, role: str = "assistant") -> None:
        classes = step.message.role if step else role
        super().__init__(classes=classes)
        self.step = step
        self.companion = companion
        self._role = role

    @property
    def text(self) -> str:
        """The message text (what is shown while streaming)."""
        return self.step.message.text if self.step else self._streamed

    _streamed = ""

    def compose(self) -> ComposeResult:
        if self.step is not None:
            yield Static(header_text(self.step, self.companion), classes="who")
            yield Markdown(self.step.message.text or " ")
        else:
            who = self.companion if self._role == "assistant" else "You"
            yield Static(f"{who} · writing…", classes="who")
            yield Markdown("")

    def append(self, piece: str) -> None:
        """Add streamed text (UI thread)."""
        self._streamed += piece
        self.query_one(Markdown).append(piece)

    def action_act(self, action: str) -> None:
        self.post_message(self.Action(self, action))

    def action_move(self, delta: int) -> None:
        siblings = (
            [w for w in self.parent.children if isinstance(w, MessageView)] if self.parent else []
        )
        index = siblings.index(self) + delta
        if 0 <= index < len(siblings):
            siblings[index].focus()
            siblings[index].scroll_visible()
