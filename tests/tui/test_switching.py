"""Switching companion (F5) and the light/dark theme toggle, on the scripted engine."""

from __future__ import annotations

from textual.widgets import OptionList

from runtime.tui.screens.chat import ChatScreen
from runtime.tui.screens.dialogs import PickScreen
from runtime.tui.screens.first_run import FirstRunScreen
from runtime.tui.widgets.message import MessageView
from tests.tui.conftest import wait_until
from tests.tui.scripted import scripted_app, scripted_companion


async def chat_with(pilot, slug: str) -> ChatScreen:
    app = pilot.app
    await wait_until(
        pilot,
        lambda: (
            isinstance(app.screen, ChatScreen)
            and app.screen.slug == slug
            and app.screen.opened is not None
            and len(list(app.screen.query(MessageView))) >= 1
        ),
    )
    return app.screen


async def pick(pilot, option_id: str) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PickScreen))
    options = pilot.app.screen.query_one(OptionList)
    options.focus()
    options.highlighted = options.get_option_index(option_id)
    await pilot.press("enter")


async def test_f5_switches_to_another_companion_and_back() -> None:
    scripted_companion("Ash")
    app = scripted_app()  # Mira too; the first slug ("ash") opens
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await chat_with(pilot, "ash")
        assert "I'm Ash." in next(iter(screen.query(MessageView))).text
        await pilot.press("f5")
        await pick(pilot, "mira")
        screen = await chat_with(pilot, "mira")
        assert screen.sub_title == "Mira" and app.slug == "mira"
        assert "I'm Mira." in next(iter(screen.query(MessageView))).text
        assert len(app.screen_stack) == 2, "switching replaces the chat, it does not stack"
        await pilot.press("f5")
        await pick(pilot, "+new")
        await wait_until(pilot, lambda: isinstance(app.screen, FirstRunScreen))
        await pilot.press("escape")  # back to the chat it was opened from
        assert app.screen is screen
        await pilot.press("f5")
        await pick(pilot, "+new")
        await wait_until(pilot, lambda: isinstance(app.screen, FirstRunScreen))
        await pilot.press("f5")  # from the form too
        await pick(pilot, "ash")
        await chat_with(pilot, "ash")


async def test_escape_leaves_the_companion_picker_without_switching() -> None:
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await chat_with(pilot, "mira")
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("escape")
        assert app.screen is screen


async def test_ctrl_t_toggles_light_and_dark_themes() -> None:
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await chat_with(pilot, "mira")
        assert app.theme == "textual-dark"
        dark = screen.query_one("#status").styles.background
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        await pilot.pause()
        light = screen.query_one("#status").styles.background
        assert light != dark and light.brightness > dark.brightness
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"
