"""First run: create a companion, pick a model, reach the chat; errors are screens."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Input, Static

from runtime.companions import CompanionRegistry
from runtime.paths import DataHome
from runtime.store import TranscriptStore
from runtime.tui.screens.chat import ChatScreen
from runtime.tui.screens.error import ErrorScreen
from runtime.tui.screens.first_run import FirstRunScreen
from runtime.tui.screens.model_pick import ModelPickScreen
from tests.tui.conftest import new_app, wait_until


async def test_create_a_companion_then_pick_a_model_then_chat(
    isolated_home: Path, tiny_models
) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        assert not isolated_home.exists(), "looking must not create the data home"
        await pilot.press("ctrl+s")  # no name yet: a notification, nothing created
        assert isinstance(app.screen, FirstRunScreen)
        assert any("name" in n.message for n in app._notifications)
        await pilot.press(*"Mira", "enter", *"A warm friend.", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickScreen))
        entry = CompanionRegistry(DataHome.resolve()).find("Mira")
        assert entry.companion.persona.description == "A warm friend."
        await wait_until(
            pilot,
            lambda: (
                "none found" in str(app.screen.query_one("#models").get_option_at_index(0).prompt)
            ),
        )
        help_text = str(app.screen.query_one("#download-help", Static).content)
        assert "hearth model pull --list" in help_text
        app.screen.query_one("#model-path", Input).value = "/nowhere/model.gguf"
        await pilot.press("enter")
        assert isinstance(app.screen, ModelPickScreen)  # a notification, not a crash
        app.screen.query_one("#model-path", Input).value = str(tiny_models.gguf_q4_k_m)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await wait_until(pilot, lambda: app.screen.opened is not None)
    chosen = CompanionRegistry(DataHome.resolve()).find("Mira").companion.model.chat
    assert chosen == tiny_models.gguf_q4_k_m


async def test_found_models_are_listed_and_picked(isolated_home: Path, tiny_models) -> None:
    home = DataHome.resolve().ensure()
    (home.root / "models").mkdir(exist_ok=True)
    target = home.root / "models" / "tiny.gguf"
    target.write_bytes(Path(tiny_models.gguf_q4_k_m).read_bytes())
    from runtime.companion import Companion, Persona

    CompanionRegistry(home).create(Companion(persona=Persona(name="Mira")))
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickScreen))
        models = app.screen.query_one("#models")
        await wait_until(
            pilot,
            lambda: (
                models.option_count and "tiny · Q4_K_M" in str(models.get_option_at_index(0).prompt)
            ),
        )
        models.focus()
        models.highlighted = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
    assert CompanionRegistry(home).find("Mira").companion.model.chat.name == "tiny.gguf"


async def test_a_broken_companion_file_is_an_error_screen_with_its_hint(
    isolated_home: Path,
) -> None:
    home = DataHome.resolve()
    from runtime.companion import Companion, Persona

    CompanionRegistry(home).create(Companion(persona=Persona(name="Mira")))
    (home.companion_dir("mira") / "companion.toml").write_text("[persona", encoding="utf-8")
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen)
        assert "not valid TOML" in str(app.screen.query_one("#error-message", Static).content)
        (home.companion_dir("mira") / "companion.toml").write_text(
            '[persona]\nname = "Mira"\n', encoding="utf-8"
        )
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickScreen))


async def test_import_failure_is_shown_and_the_form_stays(
    isolated_home: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "export.json"
    bad.write_text("not json at all", encoding="utf-8")
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#import-path", Input).value = str(bad)
        app.screen.query_one("#import-path", Input).focus()
        await pilot.press("enter")
        status = app.screen.query_one("#import-status", Static)
        await wait_until(
            pilot, lambda: "failed" in str(status.content) or "Imported" in str(status.content)
        )
        assert isinstance(app.screen, FirstRunScreen)


def write_jsonl(path: Path) -> Path:
    """A small Hearth JSONL export: one conversation of two messages."""
    rows = [
        {"session": "trip", "id": "1", "role": "user", "text": "Where should we go?"},
        {"session": "trip", "id": "2", "role": "assistant", "text": "The sea!"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def record_progress(screen: FirstRunScreen) -> list[tuple[int, int | None, int, bool]]:
    """(done, total, sessions, bar shown) for every progress update the import sends."""
    seen: list[tuple[int, int | None, int, bool]] = []
    original = screen._progress

    def progress(done: int, total: int | None, sessions: int) -> None:
        seen.append((done, total, sessions, screen.query_one("#progress").display))
        original(done, total, sessions)

    screen._progress = progress  # type: ignore[method-assign]
    return seen


async def test_an_import_shows_progress_then_a_summary_then_continues(
    isolated_home: Path, tmp_path: Path
) -> None:
    export = write_jsonl(tmp_path / "chat.jsonl")
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FirstRunScreen)
        seen = record_progress(screen)
        screen.query_one("#import-path", Input).value = str(export)
        screen.query_one("#import-path", Input).focus()
        await pilot.press("enter")
        status = screen.query_one("#import-status", Static)
        await wait_until(pilot, lambda: "Imported into" in str(status.content))
        size = export.stat().st_size
        assert seen and seen[-1] == (size, size, 1, True), "the bar showed the bytes read"
        summary = str(status.content)
        assert "Imported into Companion (new companion)" in summary
        assert "sessions added: 1" in summary and "messages added: 2" in summary
        assert not screen.query_one("#progress").display
        assert screen.query_one("#continue").display and screen.imported_slug == "companion"
        await pilot.press("enter")  # Continue has the focus
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickScreen))
        assert app.screen.slug == "companion"
    with TranscriptStore.open(
        CompanionRegistry(DataHome.resolve()).load("companion").paths.transcript
    ) as store:
        [session] = store.list_sessions()
        assert [m.text for m in store.active_path(session.id)] == [
            "Where should we go?",
            "The sea!",
        ]


async def test_an_import_routes_to_the_companion_it_went_into_not_a_guessed_slug(
    isolated_home: Path, tmp_path: Path
) -> None:
    from runtime.companion import Companion, Persona

    registry = CompanionRegistry(DataHome.resolve())
    entry = registry.create(Companion(persona=Persona(name="Mira")))
    # Renamed later: the directory (slug) stays "mira", the name no longer slugifies to it.
    registry.save(entry, Companion(persona=Persona(name="Mira Rose")))
    export = write_jsonl(tmp_path / "chat.jsonl")
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickScreen))
        app.push_screen(FirstRunScreen())
        await pilot.pause()
        screen = app.screen
        screen.query_one("#import-path", Input).value = str(export)
        screen.query_one("#import-path", Input).focus()
        await pilot.press("enter")
        status = screen.query_one("#import-status", Static)
        await wait_until(pilot, lambda: "Imported into" in str(status.content))
        assert "Imported into Mira Rose" in str(status.content)
        assert screen.imported_slug == "mira"
