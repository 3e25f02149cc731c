"""The sessions sidebar: search box and list; posts `Chosen` (the screen does the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from runtime.store import SessionSummary


def session_label(summary: SessionSummary, current: int | None) -> str:
    mark = "▸ " if summary.id == current else "  "
    return f"{mark}{summary.title or 'untitled'}"


class SessionList(Vertical):
    """Sessions of the current companion, newest first, filtered by the search box."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "ask('new')", "New", show=False),
        Binding("f2", "ask('rename')", "Rename"),
        Binding("delete", "ask('delete')", "Delete"),
    ]

    @dataclass
    class Chosen(Message):
        """`action` ("open", "rename", "delete", "new") on session `session_id`."""

        action: str
        session_id: int | None

    def __init__(self) -> None:
        super().__init__(id="sessions")
        self.summaries: list[SessionSummary] = []
        self.current: int | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search sessions", id="session-search")
        yield OptionList(id="session-list")

    def show(self, summaries: list[SessionSummary], current: int | None) -> None:
        """Replace the list (UI thread)."""
        self.summaries, self.current = summaries, current
        self._fill()

    def _fill(self) -> None:
        wanted = self.query_one(Input).value.strip().casefold()
        options = self.query_one(OptionList)
        options.clear_options()
        for summary in self.summaries:
            if wanted and wanted not in (summary.title or "untitled").casefold():
                continue
            options.add_option(Option(session_label(summary, self.current), id=str(summary.id)))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Chosen("open", int(event.option.id or 0)))

    def highlighted(self) -> int | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        return int(options.get_option_at_index(options.highlighted).id or 0)

    def action_ask(self, action: str) -> None:
        self.post_message(self.Chosen(action, self.highlighted()))
