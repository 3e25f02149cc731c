"""Quitting while the model still loads: the app exits at once, the model that finishes loading
afterwards is freed by the loading thread, and nothing uses it after that (a quit mid-load
used to free the model under a thread still opening the chat, taking the process down)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from runtime.engine.errors import ModelClosedError
from runtime.errors import UsageError
from runtime.tui.backend import ChatHost, load_engine
from runtime.tui.screens.chat import ChatScreen
from tests.tui.conftest import new_app, wait_until

pytestmark = pytest.mark.slow


class HeldLoader:
    """Loads the real engine only once `release` is set; remembers what it loaded."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.loaded = []

    def __call__(self, settings):
        self.started.set()
        assert self.release.wait(60)
        engine = load_engine(settings)
        self.loaded.append(engine)
        return engine


async def test_quit_while_the_model_loads_frees_it_once_loaded(mira) -> None:
    loader = HeldLoader()
    app = new_app(loader=loader)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await wait_until(pilot, loader.started.is_set)
        app.exit()
    # The app has stopped (its unmount closed the host) while the load is still held.
    loader.release.set()
    assert await eventually(lambda: bool(loader.loaded))
    (engine,) = loader.loaded
    assert await eventually(lambda: closed(engine)), "the engine loaded after quitting was kept"


def closed(engine) -> bool:
    try:
        engine.tokenize("Hello")
    except ModelClosedError:
        return True
    return False


async def eventually(predicate, timeout: float = 60.0) -> bool:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


def test_a_host_closed_during_a_load_frees_the_new_engine_and_refuses_the_open(mira) -> None:
    from runtime.cli.context import CliContext
    from runtime.paths import DataHome

    loader = HeldLoader()
    host = ChatHost(CliContext(home=DataHome.resolve()), loader)
    failures: list[BaseException] = []

    def open_chat() -> None:
        try:
            host.open(mira.slug)
        except BaseException as exc:
            failures.append(exc)

    opener = threading.Thread(target=open_chat)
    opener.start()
    assert loader.started.wait(30)
    host.close()  # returns at once: it never waits for a load
    assert opener.is_alive()
    loader.release.set()
    opener.join(60)
    assert not opener.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], UsageError)
    assert "closing" in str(failures[0])
    assert closed(loader.loaded[0])
    with pytest.raises(UsageError):
        host.open(mira.slug)
