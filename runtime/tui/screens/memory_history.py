"""Memory history: every change to memory (core blocks, stored memories, forgotten turns),
newest first, with the time, the text before and after (`hearth memory history` in the TUI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

if TYPE_CHECKING:
    from runtime.store.memory_log import MemoryEvent

SNIPPET = 28


def short(text: str | None, width: int = SNIPPET) -> str:
    """One line of at most `width` characters; '-' for nothing."""
    if text is None:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class MemoryHistoryScreen(ModalScreen[None]):
    """The memory change log; Enter shows one change in full."""

    CSS_PATH = "memory_history.tcss"
    LIMIT = 200
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,h", "dismiss", "Close")]

    def __init__(self, events: list[MemoryEvent]) -> None:
        super().__init__()
        self.events = events

    def compose(self) -> ComposeResult:
        with Vertical(id="history"):
            yield Static("Memory history — newest first (times in UTC)", classes="section")
            if self.events:
                yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
            else:
                yield Static("no changes to memory yet", id="no-events")
            yield Static("", id="event", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if not self.events:
            return
        table = self.query_one("#events", DataTable)
        table.add_columns("when", "change", "what", "before", "after")
        for event in self.events:
            when = event.at.strftime("%Y-%m-%d %H:%M")
            table.add_row(
                when, event.action, short(event.target, 14), short(event.before),
                short(event.after), key=str(event.id),
            )  # fmt: skip
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        found = next((e for e in self.events if str(e.id) == event.row_key.value), None)
        if found is not None:
            self.query_one("#event", Static).update(
                f"{found.action} {found.target}\nbefore: {found.before or '-'}\n"
                f"after:  {found.after or '-'}"
            )
