"""The memory screen on the real long-term memory (real Chroma, the real embedding model, a
scripted engine): search shows score, kind, session and date; a result pins into core memory
and forgets for good (gone from Chroma and SQLite); core blocks edit and forget; every change
shows in the history with before and after; all at 80x24."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from runtime.companions import CompanionRegistry
from runtime.paths import DataHome
from runtime.store import NewMessage, TranscriptStore
from runtime.tui.screens.dialogs import AskScreen, ConfirmScreen
from runtime.tui.screens.memory import MemoryScreen
from runtime.tui.screens.memory_history import MemoryHistoryScreen
from tests.tui.conftest import wait_until
from tests.tui.scripted import HOME, scripted_app, scripted_companion
from tests.tui.test_snapshots import chat_ready

pytestmark = pytest.mark.slow
KITTEN = "I adopted a kitten today and named her Biscuit."


def old_session() -> int:
    entry = scripted_companion()
    at = datetime(2025, 2, 14, 20, 0, tzinfo=UTC)
    with TranscriptStore.open(entry.paths.transcript) as store:
        session = store.create_session("Pets", created_at=at)
        store.append_many(
            session.id,
            [
                NewMessage("user", KITTEN, created_at=at),
                NewMessage("assistant", "Biscuit is a lovely name for a kitten!", created_at=at),
            ],
        )
        return session.id


def options_text(options: OptionList) -> list[str]:
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def search(pilot, screen: MemoryScreen, query: str) -> OptionList:
    results = screen.query_one("#results", Static)
    screen.query_one("#memory-search", Input).value = query
    screen.query_one("#memory-search", Input).focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: f"for “{query}”" in str(results.content))
    return screen.query_one("#hits", OptionList)


async def test_search_pin_forget_edit_and_history(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    session = old_session()
    app = scripted_app(companion=False)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await chat_ready(pilot)
        chat.opened.memory.wait()  # the old session, indexed when the chat opened
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, MemoryScreen)
        footer = " ".join(b.description for b in screen.BINDINGS)  # type: ignore[union-attr]
        assert all(word in footer for word in ("Search", "Pin", "Forget", "History"))

        # search: score, id, kind, session and date of each result
        hits = await search(pilot, screen, "what is my cat called?")
        assert hits.display and hits.option_count >= 1
        first = options_text(hits)[0]
        assert "turn:" in first and f"episodic · session {session} · 2025-02-14" in first
        assert "Biscuit" in first
        item_id = hits.get_option_at_index(0).id

        # pin: the result's text becomes part of the core block "pinned"
        hits.focus()
        hits.highlighted = 0
        await pilot.press("p")
        blocks = screen.query_one("#blocks", OptionList)
        await wait_until(pilot, lambda: any(t.startswith("pinned") for t in options_text(blocks)))
        entry = CompanionRegistry(DataHome(HOME)).load("mira")
        pinned = next(b for b in entry.companion.core_memories if b.label == "pinned")
        assert KITTEN in pinned.text

        # forget: asked first, then gone from Chroma and from SQLite
        hits.focus()
        hits.highlighted = 0
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: item_id not in screen.hits)
        with chat.opened.memory.using() as memory:
            assert item_id not in memory.items.get([item_id])
            assert not memory.vectors.vectors([item_id])
        hits = await search(pilot, screen, "what is my cat called?")
        assert item_id not in [hits.get_option_at_index(i).id for i in range(hits.option_count)]

        # edit a core block through the screen (logged)
        blocks.focus()
        blocks.highlighted = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AskScreen))
        app.screen.query_one("#answer", TextArea).text = "Sam likes jasmine tea."
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "jasmine" in options_text(blocks)[0])

        # history: newest first, with before and after
        blocks.focus()
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, MemoryHistoryScreen))
        table = app.screen.query_one("#events", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [row[1] for row in rows][:3] == ["core.edit", "forget", "core.pin"]
        assert rows[0][2] == "user" and rows[0][3] == "Sam likes green tea."
        assert rows[1][2] == item_id and rows[1][4] == "-"
        detail = str(app.screen.query_one("#event", Static).content)
        assert "after:  Sam likes jasmine tea." in detail
        await pilot.press("escape")
        assert app.screen is screen

        # forget a core block (Del on the blocks list), after confirming
        blocks.focus()
        blocks.highlighted = 0
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: not any(t.startswith("user") for t in options_text(blocks)))
        await pilot.press("escape")
    blocks_left = CompanionRegistry(DataHome(HOME)).load("mira").companion.core_memories
    labels = [b.label for b in blocks_left]
    assert "user" not in labels and "pinned" in labels


async def test_when_memory_is_off_the_screen_says_why(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    entry = scripted_companion()
    registry = CompanionRegistry(DataHome(HOME))
    model = entry.companion.model.model_copy(update={"embedding": "/nowhere/model"})
    registry.save(entry, entry.companion.model_copy(update={"model": model}))
    app = scripted_app(companion=False)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await chat_ready(pilot)
        assert chat.opened.memory_warning is not None
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, MemoryScreen)
        results = screen.query_one("#results", Static)
        screen.query_one("#memory-search", Input).value = "tea"
        screen.query_one("#memory-search", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Search failed" in str(results.content))
        assert "long-term memory is off: embedding model" in str(results.content)
