"""TUI test helpers: a companion on the real tiny GGUF, an app factory, and `wait_until`
(oterm's pattern: poll, never sleep a fixed time)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import pytest
from rich.console import Console
from textual.widgets import Static

from runtime.cli.context import CliContext
from runtime.companion import Companion, CoreMemory, GenerationSettings, ModelChoice, Persona
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.paths import DataHome
from runtime.tui.app import HearthApp, make_app


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Let the app run until `predicate()` is true (fails the test after `timeout` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await pilot.pause(0.05)


def rendered_text(widget: Static, width: int = 76) -> str:
    """What a Static shows, as plain text (its content may be a rich renderable)."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def new_app(**kwargs) -> HearthApp:
    return make_app(CliContext(home=DataHome.resolve()), **kwargs)


@pytest.fixture
def mira(tiny_models) -> CompanionEntry:
    """Mira on the tiny Q4_K_M model, greedy and short, with one core memory block."""
    companion = Companion(
        persona=Persona(
            name="Mira", description="A warm friend.", first_mes="Hi {{user}}! I'm {{char}}."
        ),
        core_memories=[CoreMemory(label="user", text="Sam likes tea.", limit=100)],
        model=ModelChoice(chat=tiny_models.gguf_q4_k_m),
        generation=GenerationSettings(temperature=0.0, max_tokens=32, context_size=1024),
    )
    return CompanionRegistry(DataHome.resolve()).create(companion)
