"""The chat on long-term memory (real Chroma, the real embedding model, a scripted engine):
prompts retrieve turns of other sessions by meaning, with scores and provenance; every reply is
indexed in the background; turns in the prompt's window are not retrieved; without a usable
embedding model the chat goes on with keyword search and says so once."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runtime.chat import open_chat
from runtime.cli.chat import PlainChat
from runtime.companion import Companion, GenerationSettings, ModelChoice, Persona
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.config import Config
from runtime.memory import open_memory
from runtime.memory.vectors import VectorIndex
from runtime.paths import DataHome
from runtime.store import NewMessage, TranscriptStore
from tests.tui.scripted import ScriptedEngine

pytestmark = pytest.mark.slow


def make_companion(embedding: str | None = None) -> CompanionEntry:
    model = ModelChoice(chat=Path("scripted.gguf"))
    if embedding is not None:
        model = model.model_copy(update={"embedding": embedding})
    companion = Companion(
        persona=Persona(name="Mira"),
        model=model,
        generation=GenerationSettings(temperature=0.0, max_tokens=16, context_size=1024),
    )
    return CompanionRegistry(DataHome.resolve().ensure()).create(companion)


def old_session(entry: CompanionEntry) -> int:
    """An earlier conversation about the cat, a month before."""
    at = datetime(2025, 2, 14, 20, 0, tzinfo=UTC)
    with TranscriptStore.open(entry.paths.transcript) as store:
        session = store.create_session("Pets", created_at=at)
        store.append_many(
            session.id,
            [
                NewMessage("user", "I adopted a kitten and named her Biscuit.", created_at=at),
                NewMessage("assistant", "Biscuit is a lovely name for a kitten!", created_at=at),
                NewMessage("user", "The weather was rainy on the way home.", created_at=at),
                NewMessage("assistant", "Rainy days are good for staying in.", created_at=at),
            ],
        )
        return session.id


def test_prompts_retrieve_other_sessions_and_each_reply_is_indexed() -> None:
    entry = make_companion()
    old = old_session(entry)
    opened = open_chat(
        DataHome.resolve(), Config(), "Mira", new=True, engine=ScriptedEngine(["Noted, Sam."])
    )
    try:
        memory = opened.memory
        assert memory is not None and memory.active and opened.memory_warning is None
        memory.wait()  # the old session, indexed in the background when the chat opened
        turn = opened.chat.send("What is the name of my pet cat?")
        used = turn.report.memories
        assert used and used[0].id.startswith("turn:")
        assert used[0].session_id == old and "Biscuit" in used[0].text and used[0].score > 0
        memory.wait()
        with memory.using() as companion_memory:
            assert companion_memory.pending() == 0
            hits = companion_memory.search("What is the name of my pet cat?", 10)
        assert any(turn.user.id in hit.item.message_ids for hit in hits), "the new turn"
        # The turn just said is in the prompt's window: never offered back as a memory.
        again = opened.chat.send("Tell me about my pet cat again")
        assert all(m.session_id == old for m in again.report.memories)
    finally:
        opened.close()


def test_without_the_embedding_model_the_chat_uses_keywords_and_warns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = make_companion(embedding="/nowhere/no-such-model")
    old_session(entry)
    opened = open_chat(
        DataHome.resolve(), Config(), "Mira", new=True, engine=ScriptedEngine(["Yes."])
    )
    try:
        assert opened.memory is not None and not opened.memory.active
        message, hint = opened.memory_warning or ("", "")
        assert message.startswith("long-term memory is off: embedding model")
        assert "keywords" in hint
        PlainChat(opened, io.StringIO("Do you remember Biscuit the kitten?\n"), io.StringIO()).run()
        report = opened.chat.last_report
        assert report is not None and report.memories
        assert report.memories[0].id.startswith("message:")  # the keyword fallback
    finally:
        opened.close()
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if line.startswith("warning:")] == [f"warning: {message}"]


def test_a_prompt_does_not_wait_for_the_exact_search_copy(monkeypatch) -> None:
    """Making the copy takes seconds in a large memory; meanwhile Chroma's graph answers."""
    entry = make_companion()
    old_session(entry)
    # Index first (in a memory of its own), so the chat has something to find at once.
    indexed = open_memory(entry)
    indexed.index_new()
    indexed.close()
    copying, release = threading.Event(), threading.Event()
    original = VectorIndex._load_copy

    def slow_copy(self, total):
        copying.set()
        assert release.wait(60)
        return original(self, total)

    monkeypatch.setattr(VectorIndex, "_load_copy", slow_copy)
    opened = open_chat(
        DataHome.resolve(), Config(), "Mira", new=True, engine=ScriptedEngine(["Noted."])
    )
    try:
        assert copying.wait(60)
        turn = opened.chat.send("What is the name of my pet cat?")  # the copy still held
        assert "Biscuit" in turn.report.memories[0].text
        release.set()
        opened.memory.wait()
        with opened.memory.using() as companion_memory:
            assert companion_memory.vectors.searches_exactly()  # in place once made
    finally:
        release.set()
        opened.close()
