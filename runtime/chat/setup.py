"""Open a chat: find the companion and its model, load the engine, open its long-term memory,
pick or start a session.

Shared by the plain chat and the TUI. The model is resolved before anything is loaded, so a
companion without one fails at once with the commands that fix it. Memory trouble never stops a
chat: `OpenChat.memory_warning` says when it runs on keyword search instead (see `memory`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from runtime.chat.memory import ChatMemory
from runtime.chat.session import ChatSession
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.config import Config
from runtime.engine import Engine, EngineConfig
from runtime.errors import ModelError, NotFoundError
from runtime.paths import DataHome
from runtime.store import Message, Session, TranscriptStore

logger = logging.getLogger(__name__)

USER_NAME = "User"


def chat_model(entry: CompanionEntry, config: Config) -> Path:
    """The companion's chat model file, or the global default; a ModelError when neither."""
    chosen = entry.companion.model.chat or config.default_model
    if chosen is None:
        raise ModelError(
            f"{entry.name} has no chat model",
            hint=f"choose one with `hearth companion edit {entry.slug} --model FILE.gguf`; "
            "`hearth model list` shows the models you have, `hearth model pull --list` "
            "recommended ones to download",
        )
    return Path(chosen).expanduser()


def engine_config(entry: CompanionEntry, config: Config) -> EngineConfig:
    """How to load the companion's model: its files, its context size, this machine's settings."""
    companion = entry.companion
    return EngineConfig(
        model=chat_model(entry, config),
        adapter=companion.adapter.path,
        adapter_scale=companion.adapter.scale,
        context_size=companion.generation.context_size or config.llama.context_size,
        threads=config.llama.threads,
        gpu_layers=config.llama.gpu_layers,
    )


@dataclass
class OpenChat:
    """An open conversation: the turn logic, and how it was opened."""

    chat: ChatSession
    entry: CompanionEntry
    session: Session
    resumed: bool
    """True when an existing session was continued."""
    greeting: Message | None
    """The card's greeting, when it was just stored for a new session."""
    owns_engine: bool = True
    """False when the engine was handed in: `close` leaves it loaded."""

    @property
    def memory(self) -> ChatMemory | None:
        """The companion's long-term memory as the chat uses it."""
        return self.chat.memory

    @property
    def memory_warning(self) -> tuple[str, str] | None:
        """(message, hint) when the chat runs without its long-term memory; show it once.
        Waits until the memory has opened (call it from a worker in a UI)."""
        return self.memory.warning if self.memory is not None else None

    def close(self) -> None:
        """Close memory (after the slice it is indexing) and transcript; free the model (if
        loaded here)."""
        if self.chat.memory is not None:
            self.chat.memory.close()
        self.chat.store.close()
        if self.owns_engine:
            self.chat.engine.close()


def _pick_session(
    store: TranscriptStore, session_id: int | None, new: bool, create: bool
) -> tuple[Session, bool]:
    if session_id is not None:
        return store.get_session(session_id), True
    if not new:
        recent = store.list_sessions()
        if recent:
            return store.get_session(recent[0].id), True
    if not create:
        raise NotFoundError(
            "there is no conversation yet", hint="start one with `hearth chat --plain`"
        )
    return store.create_session(), False


def open_chat(
    home: DataHome,
    config: Config,
    companion_name: str | None,
    *,
    session_id: int | None = None,
    new: bool = False,
    engine: Engine | None = None,
    inspect: bool = False,
) -> OpenChat:
    """Open a chat with the companion: session `session_id`, a new one, or the latest one.

    `engine` may be passed in (tests, benchmarks); otherwise the companion's model is loaded.
    With `inspect`, nothing is written: no session is created, no greeting stored, nothing
    indexed. Otherwise what the memory has not indexed yet is indexed in the background.
    """
    entry = CompanionRegistry(home).resolve(companion_name)
    settings = engine_config(entry, config)
    store = TranscriptStore.open(entry.paths.transcript)
    # The memory opens on its own thread while the model loads (both take seconds).
    memory = ChatMemory.open(entry, store, model_dirs=config.model_dirs, user_name=USER_NAME)
    loaded: Engine | None = None
    try:
        loaded = engine or Engine.load(settings)
        session, resumed = _pick_session(store, session_id, new, create=not inspect)
        chat = ChatSession(
            store, loaded, entry.companion, session.id, memory=memory, user_name=USER_NAME
        )
        greeting = None if inspect else chat.greet()
        if not inspect:
            memory.index_in_background()  # what came in since (imports, other chats)
    except BaseException:
        memory.close()
        store.close()
        if engine is None and loaded is not None:
            loaded.close()
        raise
    logger.info("chat opened: session %d (resumed: %s)", session.id, resumed)
    return OpenChat(chat, entry, session, resumed, greeting, owns_engine=engine is None)
