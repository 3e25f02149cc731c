"""Inspector, memory, persona and help screens; logging kept off the terminal."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static, TextArea

from runtime.cli.context import CliContext
from runtime.companions import CompanionRegistry
from runtime.paths import DataHome
from runtime.store import TranscriptStore
from runtime.tui import quiet_logging
from runtime.tui.screens.dialogs import AskScreen
from runtime.tui.screens.help import HelpScreen
from runtime.tui.screens.inspector import InspectorScreen
from runtime.tui.screens.memory import MemoryScreen, meter
from runtime.tui.screens.persona import PersonaScreen
from tests.tui.conftest import new_app, rendered_text, wait_until
from tests.tui.test_chat import ready, say

pytestmark = pytest.mark.slow


async def test_the_inspector_shows_the_memories_that_were_in_the_prompt(mira) -> None:
    with TranscriptStore.open(mira.paths.transcript) as store:
        old = store.create_session(title="Pets")
        store.append(old.id, "user", "My cat is called Biscuit and she loves boxes.")
        store.append(old.id, "assistant", "Biscuit sounds adorable!")
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: screen.opened.chat.session_id != old.id)
        await say(pilot, screen, "What is my cat Biscuit called?")
        used = screen.opened.chat.last_report.memories
        assert used, "retrieval should find the old session"
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen))
        table = app.screen.query_one("#memories", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [row[0] for row in rows] == [m.id for m in used]
        assert [row[2] for row in rows] == [f"{m.score:.3f}" for m in used]
        assert all(f"session {old.id}" in row[4] for row in rows)
        parts = app.screen.query_one("#parts", DataTable)
        names = [parts.get_row_at(i)[0] for i in range(parts.row_count)]
        assert names[:2] == ["persona", "core:user"] and "memories" in names
        summary = str(app.screen.query_one("#summary", Static).content)
        assert "Core memories in the prompt: user" in summary
        await pilot.press("escape")
        assert not isinstance(app.screen, InspectorScreen)


async def test_memory_blocks_show_budgets_and_edits_are_checked(mira) -> None:
    assert meter(50, 100).endswith("50/100 chars (50%)")
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("f3")
        assert isinstance(app.screen, MemoryScreen)
        blocks = app.screen.query_one("#blocks")
        assert "14/100 chars" in str(blocks.get_option_at_index(0).prompt)
        blocks.highlighted = 0
        await pilot.press("enter")
        assert isinstance(app.screen, AskScreen)
        app.screen.query_one("#answer", TextArea).text = "x" * 101
        await pilot.press("ctrl+s")
        assert any("over its limit" in n.message for n in app._notifications)
        blocks.highlighted = 0
        await pilot.press("enter")
        app.screen.query_one("#answer", TextArea).text = "Sam likes green tea."
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "20/100 chars" in str(blocks.get_option_at_index(0).prompt))
        app.screen.query_one("#memory-search", Input).value = "tea"
        app.screen.query_one("#memory-search", Input).focus()
        await pilot.press("enter")
        results = app.screen.query_one("#results", Static)
        await wait_until(pilot, lambda: "found for" in str(results.content))
        await pilot.press("escape")
        assert app.screen is screen
        # the next prompt uses the edited block
        assert screen.opened.chat.companion.core_memories[0].text == "Sam likes green tea."
    saved = CompanionRegistry(DataHome.resolve()).find("Mira").companion.core_memories[0]
    assert saved.text == "Sam likes green tea."


async def test_persona_fields_save_and_cards_round_trip(mira, tmp_path: Path) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("f4")
        assert isinstance(app.screen, PersonaScreen)
        editor = app.screen
        assert editor.query_one("#description", TextArea).text == "A warm friend."
        editor.query_one("#personality", TextArea).text = "Curious and kind."
        await pilot.press("ctrl+s")
        assert (
            CompanionRegistry(DataHome.resolve()).find("Mira").companion.persona.personality
            == "Curious and kind."
        )
        card = tmp_path / "mira.json"
        await pilot.press("f7")
        app.screen.query_one("#answer", Input).value = str(card)
        await pilot.press("enter")
        assert card.exists() and "Curious and kind." in card.read_text(encoding="utf-8")
        editor.query_one("#personality", TextArea).text = "changed"
        await pilot.press("f6")
        app.screen.query_one("#answer", Input).value = str(card)
        await pilot.press("enter")
        assert editor.query_one("#personality", TextArea).text == "Curious and kind."
        editor.query_one("#name", Input).value = "   "
        await pilot.press("ctrl+s")
        assert any(n.title == "Not saved" for n in app._notifications)
        await pilot.press("escape")
        assert app.screen is screen


async def test_help_lists_the_keys_and_the_palette_has_the_screens(mira) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        keys = rendered_text(app.screen.query_one("#keys", Static))
        for key in ("Ctrl+R", "Ctrl+E", "Esc", "F2", "F3", "F4", "Ctrl+J"):
            assert key in keys
        assert "/regen" in rendered_text(app.screen.query_one("#commands", Static))
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(screen)]
        for title in (
            "Why this reply? (context inspector)",
            "Memory",
            "Persona editor",
            "New session",
            "Switch companion",
        ):
            assert title in titles
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"


def test_logging_goes_to_a_file_not_the_terminal(isolated_home: Path) -> None:
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        root.addHandler(logging.StreamHandler())
        home = DataHome.resolve().ensure()
        quiet_logging(CliContext(home=home))
        assert not [h for h in root.handlers if type(h) is logging.StreamHandler]
        logging.getLogger("runtime.test").warning("into the file")
        assert "into the file" in (home.root / "tui.log").read_text(encoding="utf-8")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved:
            root.addHandler(handler)
