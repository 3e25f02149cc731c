"""Memory: core blocks with their budgets (characters used / limit) to edit, add and forget; a
search through the companion's long-term memory (score, kind, session, date) whose results can
be pinned into core memory or forgotten; and the history of every change (`memory_history`).

Memory work (search, pin, forget) runs in worker threads through `runtime.memory`: the chat's
open memory when there is one (see `runtime.chat.memory`), else the companion's, opened here.
Core blocks change through `runtime.memory.core.CoreMemories`, which logs every change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from runtime.companion import CoreMemory
from runtime.errors import HearthError
from runtime.tui.screens.dialogs import AskScreen, ConfirmScreen

if TYPE_CHECKING:
    from runtime.chat import ChatSession
    from runtime.companions import CompanionEntry
    from runtime.memory.core import CoreMemories
    from runtime.memory.rank import Hit
    from runtime.memory.service import CompanionMemory
    from runtime.store import TranscriptStore

METER_WIDTH = 20
PIN_LABEL = "pinned"
"""The core block pinned memories go to (as `hearth memory pin`)."""
RESULTS = 10


def meter(used: int, limit: int) -> str:
    """'[████░░░░] 120/2000 chars (6%)' — a number beside the bar, never colour alone."""
    filled = min(METER_WIDTH, round(METER_WIDTH * used / limit)) if limit else 0
    percent = round(100 * used / limit) if limit else 0
    return f"[{'█' * filled}{'░' * (METER_WIDTH - filled)}] {used}/{limit} chars ({percent}%)"


def block_line(block: CoreMemory) -> str:
    text = " ".join(block.text.split()) or "(empty)"
    text = text if len(text) <= 60 else text[:59] + "…"
    return f"{block.label}  {meter(len(block.text), block.limit)}\n  {text}"


def hit_line(hit: Hit) -> str:
    """'0.512  turn:12  episodic · session 3 · 2025-02-14' and the text's start below it."""
    item = hit.item
    where = f"session {item.session_id}" if item.session_id is not None else "stored"
    date = item.created_at.date().isoformat() if item.created_at else "undated"
    text = " ".join(item.text.split())
    text = text if len(text) <= 70 else text[:69] + "…"
    return f"{hit.score:.3f}  {item.id}  {item.kind} · {where} · {date}\n  {text}"


class MemoryScreen(Screen[None]):
    """The companion's core memories, memory search, pin, forget and history."""

    CSS_PATH = "memory.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Back"),
        Binding("slash", "focus_search", "Search"),
        Binding("a", "add_block", "Add"),
        Binding("p", "pin", "Pin"),
        Binding("delete,d", "forget", "Forget", key_display="del"),
        Binding("h", "history", "History"),
    ]

    def __init__(self, slug: str, chat: ChatSession | None) -> None:
        super().__init__()
        self.slug, self.chat = slug, chat
        self.hits: dict[str, Hit] = {}
        """The shown search results by memory id."""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="memory"):
            yield Static("Core memories — always in the prompt (Enter edits)", classes="section")
            yield OptionList(id="blocks")
            yield Static("Search long-term memory (P pins, Del forgets)", classes="section")
            yield Input(placeholder="type and press Enter", id="memory-search")
            yield Static("", id="results", markup=False)
            yield OptionList(id="hits")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Memory"
        self.query_one("#hits").display = False
        self.fill()
        self.query_one("#blocks").focus()

    # --- plumbing -------------------------------------------------------------------------

    def entry(self) -> CompanionEntry:
        return self.app.host.registry().load(self.slug)  # type: ignore[attr-defined]

    def core(self, store: TranscriptStore) -> CoreMemories:
        """Core memory edits, logged in `store`."""
        from runtime.memory.core import CoreMemories

        return CoreMemories(self.app.host.registry(), self.entry(), store)  # type: ignore[attr-defined]

    @contextmanager
    def memory(self) -> Iterator[CompanionMemory]:
        """The long-term memory, for this thread (call from workers: it may load the model)."""
        shared = self.chat.memory if self.chat is not None else None
        if shared is not None:
            with shared.using() as memory:  # UsageError with the reason when it is off
                yield memory
            return
        from runtime.memory import open_memory

        model_dirs = self.app.hearth.config.model_dirs  # type: ignore[attr-defined]
        with open_memory(self.entry(), model_dirs=model_dirs) as memory:
            memory.index_new()
            yield memory

    def show_error(self, exc: BaseException, title: str) -> None:
        from runtime.tui.failures import describe

        message, kind = describe(exc)
        self.notify(message, title=title if kind == "Hearth" else kind, severity="error")

    # --- core blocks ----------------------------------------------------------------------

    def fill(self) -> None:
        options = self.query_one("#blocks", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        try:
            blocks = self.entry().companion.core_memories
        except HearthError as exc:
            self.show_error(exc, "Memory")
            return
        for block in blocks:
            options.add_option(Option(block_line(block), id=block.label))
        if not blocks:
            options.add_option(
                Option("no core memories yet — press A to add one", id="+", disabled=True)
            )
        elif highlighted is not None:
            options.highlighted = min(highlighted, len(blocks) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "blocks":
            return
        label = event.option.id
        block = next((b for b in self.entry().companion.core_memories if b.label == label), None)
        if block is None:
            return
        self.app.push_screen(
            AskScreen(
                f"Edit '{block.label}' (limit {block.limit} characters)", block.text, multiline=True
            ),
            lambda text: self.save_block(block.label, text),
        )

    def action_add_block(self) -> None:
        def named(label: str | None) -> None:
            if label and label.strip():
                self.app.push_screen(
                    AskScreen(f"What '{label.strip()}' holds", multiline=True),
                    lambda text: self.save_block(label.strip(), text, new=True),
                )

        self.app.push_screen(AskScreen("Name of the new block (e.g. user, relationship)"), named)

    def save_block(self, label: str, text: str | None, *, new: bool = False) -> None:
        """Replace block `label`'s text (or add the block); the budget is checked and the
        change logged (`runtime.memory.core`)."""
        if text is None:
            return
        from runtime.store import TranscriptStore

        try:
            with TranscriptStore.open(self.entry().paths.transcript) as store:
                core = self.core(store)
                block = core.add(label, text) if new else core.edit(label, text)
        except HearthError as exc:
            self.notify(exc.message, title="Not saved", severity="error")
            return
        self.notify(f"Saved '{label}' ({len(block.text)}/{block.limit}).", title="Core memory")
        self.fill()

    def forget_block(self, label: str) -> None:
        from runtime.store import TranscriptStore

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            try:
                with TranscriptStore.open(self.entry().paths.transcript) as store:
                    self.core(store).forget(label)
            except HearthError as exc:
                self.show_error(exc, "Not forgotten")
                return
            self.notify(f"Forgot core memory '{label}'.", title="Memory")
            self.fill()

        self.app.push_screen(ConfirmScreen(f"Forget core memory '{label}'?"), confirmed)

    # --- search, pin, forget --------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.query_one("#memory-search").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.query_one("#results", Static).update("searching…")
            self.search(event.value.strip())

    @work(thread=True, exclusive=True, group="memory-search")
    def search(self, query: str) -> None:
        try:
            with self.memory() as memory:
                hits = memory.search(query, RESULTS)
        except Exception as exc:
            self.app.call_from_thread(self._search_failed, exc)
            return
        self.app.call_from_thread(self._show_hits, query, hits)

    def _search_failed(self, exc: BaseException) -> None:
        from runtime.tui.failures import describe

        self.query_one("#results", Static).update("Search failed: " + describe(exc)[0])

    def _show_hits(self, query: str, hits: list[Hit]) -> None:
        self.query_one("#results", Static).update(f"{len(hits)} found for “{query}”:")
        options = self.query_one("#hits", OptionList)
        options.clear_options()
        options.add_options([Option(hit_line(hit), id=hit.item.id) for hit in hits])
        options.display = bool(hits)
        self.hits = {hit.item.id: hit for hit in hits}

    def selected_hit(self) -> Hit | None:
        options = self.query_one("#hits", OptionList)
        if not options.display or options.highlighted is None:
            return None
        return self.hits.get(options.get_option_at_index(options.highlighted).id or "")

    def action_pin(self) -> None:
        """Copy the highlighted result into the core block 'pinned' (always in the prompt)."""
        hit = self.selected_hit()
        if hit is None:
            self.notify("Search, then pick a result to pin.", title="Pin")
            return
        self.pin(hit.item.id)

    @work(thread=True, group="memory-edit")
    def pin(self, item_id: str) -> None:
        try:
            with self.memory() as memory:
                text = memory.item(item_id).own_text
                block = self.core(memory.store).add(PIN_LABEL, text, action="core.pin")
        except Exception as exc:
            self.app.call_from_thread(self.show_error, exc, "Not pinned")
            return
        note = f"Pinned {item_id} to '{block.label}' ({len(block.text)}/{block.limit})."
        self.app.call_from_thread(self._changed, note)

    def action_forget(self) -> None:
        """Forget the highlighted result (or core block), after asking."""
        if self.query_one("#blocks", OptionList).has_focus:
            blocks = self.query_one("#blocks", OptionList)
            if blocks.highlighted is not None:
                label = blocks.get_option_at_index(blocks.highlighted).id
                if label and label != "+":
                    self.forget_block(label)
            return
        hit = self.selected_hit()
        if hit is None:
            self.notify("Search, then pick a result to forget.", title="Forget")
            return
        snippet = " ".join(hit.item.text.split())[:60]
        self.app.push_screen(
            ConfirmScreen(f"Forget {hit.item.id} for good? ({snippet})"),
            lambda yes: self.forget(hit.item.id) if yes else None,
        )

    @work(thread=True, group="memory-edit")
    def forget(self, item_id: str) -> None:
        try:
            with self.memory() as memory:
                memory.forget(item_id)
        except Exception as exc:
            self.app.call_from_thread(self.show_error, exc, "Not forgotten")
            return
        self.app.call_from_thread(self._forgotten, item_id)

    def _forgotten(self, item_id: str) -> None:
        options = self.query_one("#hits", OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        if item_id in ids:
            options.remove_option_at_index(ids.index(item_id))
        self.hits.pop(item_id, None)
        options.display = bool(self.hits)
        self._changed(f"Forgot {item_id}: it is gone from search and from prompts.")

    def _changed(self, note: str) -> None:
        self.notify(note, title="Memory")
        self.fill()

    # --- history --------------------------------------------------------------------------

    def action_history(self) -> None:
        from runtime.store import TranscriptStore
        from runtime.tui.screens.memory_history import MemoryHistoryScreen

        try:
            entry = self.entry()
            events = []
            if entry.paths.transcript.exists():
                with TranscriptStore.open(entry.paths.transcript) as store:
                    events = store.memory_events(MemoryHistoryScreen.LIMIT)
        except HearthError as exc:
            self.show_error(exc, "History")
            return
        self.app.push_screen(MemoryHistoryScreen(events))
