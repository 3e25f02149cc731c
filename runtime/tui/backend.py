"""ChatHost: keeps the loaded model across sessions and opens chats through runtime.chat.

Blocking (model loading, opening a transcript): call it from a worker thread. The TUI never
touches the engine or the prompt itself; turns go through `runtime.chat.ChatSession`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from runtime.companions import CompanionEntry, CompanionRegistry

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
    """One loaded engine (reloaded only when the companion's model settings change)."""

    def __init__(self, ctx: CliContext, loader: EngineLoader = load_engine) -> None:
        self.ctx = ctx
        self.loader = loader
        self.engine: Engine | None = None
        self.settings: EngineConfig | None = None
        self._lock = threading.Lock()

    def registry(self) -> CompanionRegistry:
        """The companions of this data home."""
        return CompanionRegistry(self.ctx.home)

    def open(self, slug: str, *, session_id: int | None = None, new: bool = False) -> OpenChat:
        """Open (or start) a session with the companion, loading its model if needed."""
        from runtime.chat import engine_config, open_chat

        entry = self.registry().load(slug)
        settings = engine_config(entry, self.ctx.config)
        with self._lock:
            if self.engine is None or self.settings != settings:
                self.close()
                self.engine = self.loader(settings)
                self.settings = settings
            engine = self.engine
        self.ctx.ensured_home()
        return open_chat(
            self.ctx.home, self.ctx.config, entry.slug, session_id=session_id, new=new,
            engine=engine,
        )  # fmt: skip

    def close(self) -> None:
        """Free the model."""
        if self.engine is not None:
            self.engine.close()
        self.engine = None
        self.settings = None


def model_label(entry: CompanionEntry, host: ChatHost) -> tuple[str, str]:
    """(model, adapter) names for the status bar."""
    settings = host.settings
    model = settings.model.name if settings else (entry.companion.model.chat or "default")
    adapter = entry.companion.adapter.path
    return str(getattr(model, "name", model)), adapter.name if adapter else "none"
