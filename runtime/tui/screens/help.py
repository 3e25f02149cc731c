"""Every key binding and chat command, in one list."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from runtime.chat import COMMANDS

KEYS = [
    ("Enter", "send the message"),
    (
        "Ctrl+J / Shift+Enter",
        "new line in the message (Shift+Enter only where the terminal reports it)",
    ),
    ("Esc", "stop the reply at once (the text so far is kept, marked partial)"),
    ("Ctrl+R", "regenerate the latest reply (the old one stays as an alternative)"),
    ("Ctrl+E", "edit your latest message and get a new reply"),
    (
        "Ctrl+O",
        "focus the messages; then ↑/↓ move, ←/→ (or [ ]) flip alternatives, r regenerate"
        " that reply, e edit that message of yours (either starts a new branch there), c copy,"
        " d delete the branch, Esc back to typing",
    ),
    ("Ctrl+S", "sessions sidebar: type to search, Enter opens, F2 renames, Del deletes, n new"),
    ("Ctrl+N", "new session (the greeting comes first)"),
    ("F2", "why this reply: the context inspector"),
    ("F3", "memory: search, pin or forget a memory, core blocks with their budgets, history"),
    ("F4", "persona editor: card fields, import/export a card"),
    ("F5", "switch companion, or create/import another"),
    ("Ctrl+P", "command palette: everything above by name"),
    ("Ctrl+T", "light / dark theme"),
    ("F1", "this help"),
    ("Ctrl+Q", "quit"),
]


class HelpScreen(ModalScreen[None]):
    """Keys and commands."""

    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        commands = [(f"/{name}", text) for name, text in COMMANDS.items()]
        with VerticalScroll(id="help"):
            yield Static("Keys", classes="section")
            yield Static(two_columns(KEYS), id="keys")
            yield Static("Commands you can type in the message box", classes="section")
            yield Static(two_columns(commands), id="commands")
        yield Footer()


def two_columns(rows: list[tuple[str, str]]) -> Table:
    """Keys on the left, what they do on the right; long descriptions wrap in their column
    (indented under themselves, not under the keys) at any width."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    for key, what in rows:
        grid.add_row(key, what)
    return grid
