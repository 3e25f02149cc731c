"""Snapshots at 80×24 of the screens people see: first run, chat (dark and light), memory,
inspector, persona editor, error and help.

Deterministic on any machine: a scripted engine (fixed replies, token counts and tok/s), and a
data home given as a *relative* path inside the test's working directory, so no absolute tmp
path, clock time or random seed reaches the screen. Update the baselines after an intended UI
change with `pytest tests/tui/test_snapshots.py --snapshot-update`, and look at them.
"""

from __future__ import annotations

from runtime.tui.screens.chat import ChatScreen
from runtime.tui.screens.inspector import InspectorScreen
from runtime.tui.widgets.chat_input import ChatInput
from runtime.tui.widgets.message import MessageView
from tests.tui.conftest import wait_until
from tests.tui.scripted import HOME, scripted_app

SIZE = (80, 24)


async def steady(pilot) -> None:
    """Stop text cursors blinking, so a busy machine cannot catch one mid-blink."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()


async def chat_ready(pilot) -> ChatScreen:
    app = pilot.app
    await wait_until(
        pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.opened is not None
    )
    screen = app.screen
    await wait_until(pilot, lambda: len(list(screen.query(MessageView))) >= 1)
    await steady(pilot)
    return screen


async def chatted(pilot) -> ChatScreen:
    """The chat after one scripted exchange."""
    screen = await chat_ready(pilot)
    screen.query_one(ChatInput).text = "My day was good. Yours?"
    screen.query_one(ChatInput).focus()
    before = screen.turns
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.turns > before)
    await steady(pilot)
    return screen


def test_first_run(snap_compare) -> None:
    assert snap_compare(scripted_app(companion=False), terminal_size=SIZE, run_before=steady)


def test_chat_after_one_exchange(snap_compare) -> None:
    assert snap_compare(scripted_app(), terminal_size=SIZE, run_before=chatted)


def test_chat_light_theme(snap_compare) -> None:
    async def light(pilot) -> None:
        await chatted(pilot)
        await pilot.press("ctrl+t")
        await steady(pilot)

    assert snap_compare(scripted_app(), terminal_size=SIZE, run_before=light)


def test_memory_screen(snap_compare) -> None:
    async def memory(pilot) -> None:
        await chat_ready(pilot)
        await pilot.press("f3")
        await steady(pilot)

    assert snap_compare(scripted_app(), terminal_size=SIZE, run_before=memory)


def test_inspector(snap_compare) -> None:
    async def inspector(pilot) -> None:
        await chatted(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, InspectorScreen))
        await steady(pilot)

    assert snap_compare(scripted_app(), terminal_size=SIZE, run_before=inspector)


def test_persona_editor(snap_compare) -> None:
    async def persona(pilot) -> None:
        await chat_ready(pilot)
        await pilot.press("f4")
        await steady(pilot)

    assert snap_compare(scripted_app(), terminal_size=SIZE, run_before=persona)


def test_help(snap_compare) -> None:
    async def help_screen(pilot) -> None:
        await chat_ready(pilot)
        await pilot.press("f1")
        await steady(pilot)

    assert snap_compare(scripted_app(), terminal_size=SIZE, run_before=help_screen)


def test_error_screen(snap_compare) -> None:
    app = scripted_app()
    (HOME / "companions" / "mira" / "companion.toml").write_text("[persona", encoding="utf-8")
    assert snap_compare(app, terminal_size=SIZE, run_before=steady)
