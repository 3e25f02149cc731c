"""The chat screen end to end on the real tiny GGUF: streaming, persistence, Esc, regenerate,
alternatives, edit, failures; the sessions sidebar."""

from __future__ import annotations

import time

import pytest

from runtime.errors import HearthError
from runtime.store import TranscriptStore
from runtime.tui.backend import load_engine
from runtime.tui.screens.chat import ChatScreen
from runtime.tui.screens.dialogs import AskScreen, ConfirmScreen
from runtime.tui.widgets.chat_input import ChatInput
from runtime.tui.widgets.message import MessageView
from runtime.tui.widgets.status import StatusBar
from tests.tui.conftest import new_app, wait_until

pytestmark = pytest.mark.slow


def headers(app) -> list[str]:
    return [str(v.query_one(".who").content) for v in app.screen.query(MessageView)]


def stored_path(entry) -> list[tuple[str, str, bool]]:
    with TranscriptStore.open(entry.paths.transcript) as store:
        session = store.list_sessions()[0]
        return [(m.role, m.text, m.partial) for m in store.active_path(session.id)]


async def ready(pilot, app) -> ChatScreen:
    await wait_until(
        pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.opened is not None
    )
    screen = app.screen

    def shown() -> bool:
        views = list(screen.query(MessageView))
        # A view's header child mounts a moment after the view itself.
        return not screen.generating and bool(views) and all(v.query(".who") for v in views)

    await wait_until(pilot, shown)
    return screen


async def say(pilot, screen: ChatScreen, text: str) -> None:
    screen.query_one(ChatInput).text = text
    screen.query_one(ChatInput).focus()
    await turn(pilot, screen, "enter")


async def turn(pilot, screen: ChatScreen, *keys: str) -> None:
    """Press `keys` and wait until the turn they start is over."""
    before = screen.turns
    await pilot.press(*keys)
    await wait_until(pilot, lambda: screen.turns > before)


async def test_a_reply_streams_from_the_tiny_model_and_is_stored(mira) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        assert headers(app) == ["Mira"]  # the greeting of a new session
        assert "Hi User! I'm Mira." in next(iter(screen.query(MessageView))).text
        await say(pilot, screen, "Hello there!")
        views = list(screen.query(MessageView))
        assert [v.step.message.role for v in views] == ["assistant", "user", "assistant"]
        reply = views[-1].step.message
        assert reply.text.strip() and not reply.partial
        status = screen.query_one(StatusBar).status
        assert status.model == "tiny-Q4_K_M.gguf" and status.adapter == "none"
        assert status.used and status.total == 1024 and status.tokens_per_second
        assert "tok/s" in status.line() and "ctx " in status.line()
        assert screen.query_one(ChatInput).text == ""
    assert stored_path(mira) == [
        ("assistant", "Hi User! I'm Mira.", False),
        ("user", "Hello there!", False),
        ("assistant", reply.text, False),
    ]


async def test_ctrl_j_makes_a_new_line_and_enter_sends(mira) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        screen.query_one(ChatInput).focus()
        await pilot.press(*"one", "ctrl+j", *"two")
        assert screen.query_one(ChatInput).text == "one\ntwo"
        await turn(pilot, screen, "enter")
    assert stored_path(mira)[1] == ("user", "one\ntwo", False)


async def test_regenerate_and_flip_alternatives_with_keys(mira) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await say(pilot, screen, "Tell me something.")
        first = list(screen.query(MessageView))[-1].step.message
        await turn(pilot, screen, "ctrl+r")
        assert headers(app)[-1].startswith("Mira · reply 2/2")
        second = list(screen.query(MessageView))[-1].step.message
        assert second.id != first.id
        await pilot.press("ctrl+o")  # focus the last message
        assert isinstance(app.focused, MessageView)
        await pilot.press("left")
        await wait_until(pilot, lambda: headers(app)[-1].startswith("Mira · reply 1/2"))
        assert list(screen.query(MessageView))[-1].step.message.id == first.id
        await pilot.press("right")
        await wait_until(pilot, lambda: headers(app)[-1].startswith("Mira · reply 2/2"))
        await pilot.press("right")  # no third: says so, changes nothing
        assert any("No other alternative" in n.message for n in app._notifications)
    with TranscriptStore.open(mira.paths.transcript) as store:
        session = store.list_sessions()[0]
        assert store.active_path(session.id)[-1].id == second.id


async def test_edit_resends_as_a_new_version(mira) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await say(pilot, screen, "I like cats.")
        await pilot.press("ctrl+e")
        box = screen.query_one(ChatInput)
        assert box.text == "I like cats." and screen.editing is not None
        box.text = "I like dogs."
        await turn(pilot, screen, "enter")
        assert headers(app)[1] == "You · version 2/2  ◀ ▶"
        # a message's own keys: focus your message, flip back to the first version
        await pilot.press("ctrl+o", "up", "left")
        await wait_until(pilot, lambda: headers(app)[1].startswith("You · version 1/2"))
    assert stored_path(mira)[1][1] == "I like cats."


async def test_an_earlier_reply_regenerates_and_an_earlier_message_edits(mira) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await say(pilot, screen, "First question.")
        await say(pilot, screen, "Second question.")
        first_reply = list(screen.query(MessageView))[2].step.message
        # greeting, you, reply, you, reply: from the last reply up twice is the first reply
        await pilot.press("ctrl+o", "up", "up")
        assert app.focused.step.message.id == first_reply.id
        await turn(pilot, screen, "r")
        assert len(headers(app)) == 3 and headers(app)[-1].startswith("Mira · reply 2/2")
        assert [text for _, text, _ in stored_path(mira)][1] == "First question."
        # the first reply's branch, with the second exchange, is still there
        await pilot.press("ctrl+o", "left")
        await wait_until(pilot, lambda: len(headers(app)) == 5)

        await pilot.press("ctrl+o", "up", "up", "up", "e")
        box = screen.query_one(ChatInput)
        assert box.text == "First question."
        box.text = "First question, reworded."
        await turn(pilot, screen, "enter")
        assert len(headers(app)) == 3 and headers(app)[1].startswith("You · version 2/2")
    assert [text for _, text, _ in stored_path(mira)][1] == "First question, reworded."


async def test_delete_a_branch_after_confirming(mira) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await say(pilot, screen, "Short one.")
        await pilot.press("ctrl+o", "up", "d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: len(list(screen.query(MessageView))) == 1)
    assert [role for role, _, _ in stored_path(mira)] == ["assistant"]


async def test_escape_stops_the_reply_at_once_and_keeps_it_partial(mira) -> None:
    def slow_loader(settings):
        engine = load_engine(settings)
        generate = engine.generate

        class Slow:
            def __init__(self, inner):
                self.inner = inner

            def __getattr__(self, name):
                return getattr(self.inner, name)

            def __iter__(self):
                pieces = iter(self.inner)
                try:
                    for piece in pieces:
                        time.sleep(0.3)
                        yield piece
                finally:
                    pieces.close()

        engine.generate = lambda *a, **k: Slow(generate(*a, **k))
        return engine

    app = new_app(loader=slow_loader)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        screen.query_one(ChatInput).text = "Tell me a long story."
        screen.query_one(ChatInput).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.generating)
        await wait_until(pilot, lambda: list(screen.query(MessageView))[-1].text)
        pressed = time.monotonic()
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.generating)
        assert time.monotonic() - pressed < 1.5
        assert screen.query_one(StatusBar).status.state == "stopped"
        assert "stopped (partial)" in headers(app)[-1]
    role, text, partial = stored_path(mira)[-1]
    assert role == "assistant" and text and partial


async def test_a_failed_reply_is_a_notification_and_the_text_comes_back(mira, monkeypatch) -> None:
    from runtime.chat import ChatSession

    original = ChatSession._answer

    def failing(self, *args, **kwargs):
        raise HearthError("the model fell over", hint="try again")

    monkeypatch.setattr(ChatSession, "_answer", failing)
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        screen.query_one(ChatInput).text = "Are you there?"
        screen.query_one(ChatInput).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.query_one(ChatInput).text == "Are you there?")
        assert any("the model fell over" in n.message for n in app._notifications)
        assert not screen.generating
        monkeypatch.setattr(ChatSession, "_answer", original)
        await pilot.press("enter")  # sending again stores the message once
        await wait_until(
            pilot, lambda: not screen.generating and len(list(screen.query(MessageView))) == 3
        )
    assert [role for role, _, _ in stored_path(mira)] == ["assistant", "user", "assistant"]


async def test_slash_commands_and_unknown_ones(mira) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        screen.query_one(ChatInput).text = "/nonsense"
        screen.query_one(ChatInput).focus()
        await pilot.press("enter")
        assert any("unknown command" in n.message for n in app._notifications)
        assert screen.query_one(ChatInput).text == "/nonsense"
        await say(pilot, screen, "Hi!")
        screen.query_one(ChatInput).text = "/undo"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(list(screen.query(MessageView))) == 1)


async def test_sessions_new_search_rename_delete(mira) -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        await say(pilot, screen, "About gardens")
        first_id = screen.opened.chat.session_id
        await pilot.press("ctrl+n")
        await wait_until(
            pilot, lambda: screen.opened.chat.session_id != first_id and not screen.generating
        )
        await say(pilot, screen, "About boats")
        await pilot.press("ctrl+s")
        sidebar = screen.query_one("#sessions")
        assert sidebar.display
        options = screen.query_one("#session-list")
        assert options.option_count == 2
        await pilot.press(*"garden")
        await wait_until(pilot, lambda: options.option_count == 1)
        await pilot.press("enter")  # search → list
        options.highlighted = 0
        await pilot.press("enter")  # open it
        await wait_until(pilot, lambda: screen.opened.chat.session_id == first_id)
        options.focus()
        options.highlighted = 0
        await pilot.press("f2")
        assert isinstance(app.screen, AskScreen)
        app.screen.query_one("#answer").value = "Gardening"
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: (
                "Gardening" in str(options.get_option_at_index(0).prompt)
                if options.option_count
                else False
            ),
        )
        screen.query_one("#session-search").value = ""
        await wait_until(pilot, lambda: options.option_count == 2)
        options.focus()
        options.highlighted = 1
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: options.option_count == 1)
    with TranscriptStore.open(mira.paths.transcript) as store:
        assert [s.title for s in store.list_sessions()] == ["Gardening"]
