"""ChatHost: keeps the loaded model across sessions and opens chats through runtime.chat.

Blocking (model loading, opening a transcript): call it from a worker thread. The TUI never
touches the engine or the prompt itself; turns go through `runtime.chat.ChatSession`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.errors import UsageError

if TYPE_CHECKING:
    from runtime.chat import OpenChat
    from runtime.cli.context import CliContext
    from runtime.engine import Engine, EngineConfig

EngineLoader = Callable[["EngineConfig"], "Engine"]


def load_engine(settings: EngineConfig) -> Engine:
    """The real loader; imports llama_cpp on first use (never before the first frame)."""
    from runtime.engine import Engine

    return Engine.load(settings)


class ChatHost:
    """One loaded engine (reloaded only when the companion's model settings change).

    `close` (the app quitting) never waits for a model being loaded: the load sees the host
    closed when it ends and frees its model itself. Threads still using the engine are waited
    for by `Engine.close`.
    """

    def __init__(self, ctx: CliContext, loader: EngineLoader = load_engine) -> None:
        self.ctx = ctx
        self.loader = loader
        self.engine: Engine | None = None
        self.settings: EngineConfig | None = None
        self._loading = threading.Lock()
        """Held while a model loads: one load at a time."""
        self._state = threading.Lock()
        """Guards `engine`, `settings` and `_closed` (never held during a load)."""
        self._closed = False

    def registry(self) -> CompanionRegistry:
        """The companions of this data home."""
        return CompanionRegistry(self.ctx.home)

    def open(self, slug: str, *, session_id: int | None = None, new: bool = False) -> OpenChat:
        """Open (or start) a session with the companion, loading its model if needed."""
        from runtime.chat import engine_config, open_chat

        entry = self.registry().load(slug)
        settings = engine_config(entry, self.ctx.config)
        with self._loading:
            engine = self._engine_for(settings)
        self.ctx.ensured_home()
        return open_chat(
            self.ctx.home, self.ctx.config, entry.slug, session_id=session_id, new=new,
            engine=engine,
        )  # fmt: skip

    def _engine_for(self, settings: EngineConfig) -> Engine:
        with self._state:
            if self._closed:
                raise _closing()
            if self.engine is not None and self.settings == settings:
                return self.engine
            stale, self.engine, self.settings = self.engine, None, None
        if stale is not None:
            stale.close()
        engine = self.loader(settings)
        with self._state:
            closed = self._closed
            if not closed:
                self.engine, self.settings = engine, settings
        if closed:  # the app quit while it loaded
            engine.close()
            raise _closing()
        return engine

    def close(self) -> None:
        """Free the model (once threads using it let go); later opens raise UsageError."""
        with self._state:
            self._closed = True
            engine, self.engine, self.settings = self.engine, None, None
        if engine is not None:
            engine.close()


def _closing() -> UsageError:
    return UsageError("the chat is closing", hint="start Hearth again to chat")


def model_label(entry: CompanionEntry, host: ChatHost) -> tuple[str, str]:
    """(model, adapter) names for the status bar."""
    settings = host.settings
    model = settings.model.name if settings else (entry.companion.model.chat or "default")
    adapter = entry.companion.adapter.path
    return str(getattr(model, "name", model)), adapter.name if adapter else "none"
