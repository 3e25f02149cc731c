"""Memory: core blocks with their budgets (characters used / limit) to edit, and a search through
the retriever the chat uses for its prompts."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import ValidationError
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from runtime.companion import CoreMemory
from runtime.errors import HearthError
from runtime.tui.screens.dialogs import AskScreen

if TYPE_CHECKING:
    from runtime.chat import ChatSession

METER_WIDTH = 20


def meter(used: int, limit: int) -> str:
    """'[████░░░░] 120/2000 chars (6%)' — a number beside the bar, never colour alone."""
    filled = min(METER_WIDTH, round(METER_WIDTH * used / limit)) if limit else 0
    percent = round(100 * used / limit) if limit else 0
    return f"[{'█' * filled}{'░' * (METER_WIDTH - filled)}] {used}/{limit} chars ({percent}%)"


def block_line(block: CoreMemory) -> str:
    text = " ".join(block.text.split()) or "(empty)"
    text = text if len(text) <= 60 else text[:59] + "…"
    return f"{block.label}  {meter(len(block.text), block.limit)}\n  {text}"


class MemoryScreen(Screen[None]):
    """The companion's core memories and memory search."""

    CSS_PATH = "memory.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Back"),
        Binding("a", "add_block", "Add block"),
        Binding("slash", "focus_search", "Search"),
    ]

    def __init__(self, slug: str, chat: ChatSession | None) -> None:
        super().__init__()
        self.slug, self.chat = slug, chat

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="memory"):
            yield Static("Core memories — always in the prompt (Enter edits)", classes="section")
            yield OptionList(id="blocks")
            yield Static("Search memories (what retrieval would find)", classes="section")
            yield Input(placeholder="type and press Enter", id="memory-search")
            yield Static("", id="results", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Memory"
        self.fill()
        self.query_one("#blocks").focus()

    def entry(self):
        return self.app.host.registry().load(self.slug)  # type: ignore[attr-defined]

    def fill(self) -> None:
        options = self.query_one("#blocks", OptionList)
        options.clear_options()
        try:
            blocks = self.entry().companion.core_memories
        except HearthError as exc:
            self.notify(exc.message, title="Memory", severity="error")
            return
        for block in blocks:
            options.add_option(Option(block_line(block), id=block.label))
        if not blocks:
            options.add_option(
                Option("no core memories yet — press A to add one", id="+", disabled=True)
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        label = event.option.id
        block = next((b for b in self.entry().companion.core_memories if b.label == label), None)
        if block is None:
            return
        self.app.push_screen(
            AskScreen(
                f"Edit '{block.label}' (limit {block.limit} characters)", block.text, multiline=True
            ),
            lambda text: self.save_block(block.label, text, block.limit),
        )

    def action_add_block(self) -> None:
        def named(label: str | None) -> None:
            if label and label.strip():
                self.save_block(label.strip(), "", 2000)

        self.app.push_screen(AskScreen("Name of the new block (e.g. user, relationship)"), named)

    def save_block(self, label: str, text: str | None, limit: int) -> None:
        """Replace (or add) one block; the character budget is checked by CoreMemory."""
        if text is None:
            return
        try:
            entry = self.entry()
            block = CoreMemory(label=label, text=text, limit=limit)
            blocks = [b for b in entry.companion.core_memories if b.label != label]
            index = next(
                (i for i, b in enumerate(entry.companion.core_memories) if b.label == label),
                len(blocks),
            )
            blocks.insert(index, block)
            self.app.host.registry().save(
                entry, entry.companion.model_copy(update={"core_memories": blocks})
            )  # type: ignore[attr-defined]
        except ValidationError as exc:
            self.notify(exc.errors()[0]["msg"], title="Not saved", severity="error")
            return
        except HearthError as exc:
            self.notify(exc.message, title="Not saved", severity="error")
            return
        self.notify(f"Saved '{label}'.", title="Core memory")
        self.fill()

    def action_focus_search(self) -> None:
        self.query_one("#memory-search").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.query_one("#results", Static).update("searching…")
            self.search(event.value.strip())

    @work(thread=True, exclusive=True, group="memory-search")
    def search(self, query: str) -> None:
        retriever = self.chat.builder.retriever if self.chat is not None else None
        if retriever is None:
            self.app.call_from_thread(
                self.query_one("#results", Static).update, "Search needs the chat to be loaded."
            )
            return
        try:
            found = retriever.retrieve(query, session_id=None, exclude_message_ids=(), k=10)
        except Exception as exc:
            from runtime.tui.screens.chat import describe

            text = "Search failed: " + describe(exc)[0]
        else:
            lines = [f"{len(found)} found for “{query}”:"]
            for memory in found:
                snippet = " ".join(memory.text.split())
                snippet = snippet if len(snippet) <= 70 else snippet[:69] + "…"
                lines.append(f"  {memory.score:.3f}  {memory.id} ({memory.kind}): {snippet}")
            text = "\n".join(lines)
        self.app.call_from_thread(self.query_one("#results", Static).update, text)
