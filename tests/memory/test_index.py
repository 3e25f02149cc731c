"""Indexing, forgetting and rebuilding with real Chroma: incremental, really removed,
rebuilt equal, and clear errors for a memory directory Hearth cannot use."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from runtime.companion import ModelChoice
from runtime.companions import CompanionRegistry
from runtime.memory import open_memory, rebuild_memory
from runtime.memory.errors import MemoryIndexError
from runtime.store import NewMemory, NewMessage, TranscriptStore
from tests.memory.conftest import NOW
from tests.memory.test_search import SMALL_TALK


def test_indexing_is_incremental(memory, converse, entry) -> None:
    converse(SMALL_TALK)
    first = memory.index_new()
    assert (first.messages, first.items) == (12, 6)
    assert memory.index_new().items == 0  # nothing new
    converse([("I started learning the cello.", "Wonderful!")])
    assert memory.index_new().items == 1
    assert memory.pending() == 0
    assert memory.items.count() == 7


def test_a_reply_completes_its_turn_and_a_regeneration_replaces_it(memory, entry) -> None:
    with TranscriptStore.open(entry.paths.transcript) as store:
        session = store.create_session()
        user = store.append(session.id, "user", "What should I name my kitten?")
    memory.index_new()
    assert memory.item(f"turn:{user.id}").message_ids == (user.id,)
    with TranscriptStore.open(entry.paths.transcript) as store:
        reply = store.append(session.id, "assistant", "How about Mochi?")
        newer = store.regenerate(reply.id, "How about Biscuit?")
    memory.index_new()
    turn = memory.item(f"turn:{user.id}")
    assert turn.message_ids == (user.id, newer.id)
    assert "Biscuit" in turn.text and "Mochi" not in turn.text
    assert memory.vectors.count() == 2  # one per message: the replaced reply's vector is gone


def test_a_turn_is_shown_between_its_neighbours_and_a_new_turn_joins_them(memory, entry) -> None:
    with TranscriptStore.open(entry.paths.transcript) as store:
        session = store.create_session()
        ids = store.append_many(session.id, [
            NewMessage("user", "We moved to Leeds.", created_at=NOW),
            NewMessage("assistant", "How is the new flat?", created_at=NOW),
            NewMessage("user", "Small, but the kitchen is lovely.", created_at=NOW),
            NewMessage("assistant", "Cook something nice!", created_at=NOW),
        ])  # fmt: skip
    memory.index_new()
    second = memory.item(f"turn:{ids[2]}")
    assert second.text == (
        "Mira: How is the new flat?\n"
        "User: Small, but the kitchen is lovely.\n"
        "Mira: Cook something nice!"
    )
    assert (second.message_ids, second.context_ids) == ((ids[2], ids[3]), (ids[1],))
    assert second.own_text == "User: Small, but the kitchen is lovely.\nMira: Cook something nice!"
    assert memory.item(f"turn:{ids[0]}").context_ids == (ids[2],)
    with TranscriptStore.open(entry.paths.transcript) as store:
        [later] = store.append_many(
            session.id, [NewMessage("user", "I baked a lemon cake.", created_at=NOW)]
        )
    assert memory.index_new().items == 2  # the new turn, and the one it now follows
    second = memory.item(f"turn:{ids[2]}")
    assert second.context_ids == (ids[1], later) and second.text.endswith("lemon cake.")
    incremental = {i: memory.item(f"turn:{i}") for i in (ids[0], ids[2], later)}
    memory.rebuild()
    assert {i: memory.item(f"turn:{i}") for i in incremental} == incremental


def test_a_deleted_branch_leaves_the_turns_beside_it(memory, converse, entry) -> None:
    ids = converse(SMALL_TALK)
    memory.index_new()
    assert "rainy" in memory.item(f"turn:{ids[2]}").text  # the next turn, as its neighbour
    with TranscriptStore.open(entry.paths.transcript) as store:
        store.delete_branch(ids[4])  # "The weather is grey and rainy again." and all after
    hits = memory.search("rainy weather", 10)
    assert all("rainy" not in hit.item.text for hit in hits)
    assert memory.item(f"turn:{ids[2]}").context_ids == (ids[1],)
    assert [hit.item.id for hit in hits if hit.item.id == f"turn:{ids[4]}"] == []


def test_imported_memories_are_indexed_and_found(memory, entry) -> None:
    with TranscriptStore.open(entry.paths.transcript) as store:
        store.add_memories(
            [NewMemory("saved_memory", "Is vegetarian since 2020.", "chatgpt", "m-1")]
        )
    memory.index_new()
    [hit] = memory.search("what does the user eat?", 1)
    assert (hit.item.id, hit.item.kind, hit.item.source_ids) == ("memory:1", "imported", ("m-1",))


def test_a_deleted_session_leaves_memory(memory, converse, entry) -> None:
    converse(SMALL_TALK)
    memory.index_new()
    with TranscriptStore.open(entry.paths.transcript) as store:
        store.delete_session(store.list_sessions()[0].id)
    assert memory.index_new().removed == 6
    assert memory.items.count() == 0 and memory.vectors.count() == 0


def test_forget_removes_a_turn_from_chroma_and_sqlite_for_good(memory, converse, entry) -> None:
    ids = converse([("My bank PIN is 4921.", "Please don't tell me that!"), *SMALL_TALK])
    memory.index_new()
    turn = f"turn:{ids[0]}"
    memory.forget(turn)
    assert memory.items.get([turn]) == {}
    assert memory.vectors.vectors([turn, f"{turn}#1"]) == {}
    assert turn not in [hit.item.id for hit in memory.search("bank PIN", 10)]
    # The turn after it showed the forgotten reply as its neighbour: no longer.
    after = memory.item(f"turn:{ids[2]}")
    assert after.context_ids == (ids[4],) and "tell me" not in after.text
    assert all("4921" not in item.text for item in memory.items.get(
        [f"turn:{i}" for i in ids[::2]]).values())  # fmt: skip
    memory.rebuild()
    assert memory.items.get([turn]) == {}  # the transcript remembers that it was forgotten
    assert memory.items.count() == len(SMALL_TALK)


def test_forget_empties_a_stored_memory_and_a_reimport_does_not_bring_it_back(
    memory, entry
) -> None:
    fact = NewMemory("saved_memory", "Lives at 12 Elm Street.", "chatgpt", "m-7")
    with TranscriptStore.open(entry.paths.transcript) as store:
        store.add_memories([fact])
    memory.index_new()
    assert memory.forget("memory:1") == "Lives at 12 Elm Street."
    with TranscriptStore.open(entry.paths.transcript) as store:
        assert store.add_memories([fact]) == 0  # the tombstone keeps (source, source_id)
        texts = [row[0] for row in store._db.all("SELECT text FROM memories")]
    assert texts == [""]
    assert memory.vectors.vectors(["memory:1"]) == {}
    assert memory.search("Elm Street", 5) == []


def test_rebuild_gives_the_same_results(memory, converse) -> None:
    converse(SMALL_TALK, at=datetime(2024, 6, 1, tzinfo=UTC))
    converse([("I adopted a kitten named Mochi.", "Cute!"), ("I love jazz.", "Me too.")])
    memory.index_new()
    queries = ["what is my pet called?", "music", "weather last June", "老师"]
    before = [[(h.item.id, h.score) for h in memory.search(q, 5)] for q in queries]
    report = memory.rebuild()
    assert report.items == 8
    after = [[(h.item.id, h.score) for h in memory.search(q, 5)] for q in queries]
    assert after == before


def test_a_directory_from_another_format_version_is_refused(entry, converse) -> None:
    converse(SMALL_TALK)
    open_memory(entry).close()
    conn = sqlite3.connect(entry.paths.memory_dir / "memory.sqlite")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    conn.commit()
    conn.close()
    with pytest.raises(MemoryIndexError) as caught:
        open_memory(entry)
    assert "written by a newer version of Hearth (format 99" in caught.value.message
    assert "hearth memory rebuild" in (caught.value.hint or "")
    memory, report = rebuild_memory(entry)
    with memory:
        assert report.items == len(SMALL_TALK)


def test_an_index_with_the_old_keyword_terms_must_be_rebuilt(entry, converse) -> None:
    converse(SMALL_TALK)
    open_memory(entry).close()
    conn = sqlite3.connect(entry.paths.memory_dir / "memory.sqlite")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'format'")  # plain CJK bigrams
    conn.commit()
    conn.close()
    with pytest.raises(MemoryIndexError) as caught:
        open_memory(entry)
    assert "written by another version of Hearth (format 1" in caught.value.message
    assert caught.value.hint == "rebuild it from the transcript with `hearth memory rebuild`"


def test_a_damaged_or_foreign_directory_is_refused(entry) -> None:
    entry.paths.memory_dir.mkdir()
    (entry.paths.memory_dir / "memory.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(MemoryIndexError, match="is damaged") as caught:
        open_memory(entry)
    assert "hearth memory rebuild" in (caught.value.hint or "")
    (entry.paths.memory_dir / "memory.sqlite").unlink()
    (entry.paths.memory_dir / "other.txt").write_text("hello")
    with pytest.raises(MemoryIndexError, match="not a Hearth memory directory"):
        open_memory(entry)


@pytest.mark.slow
def test_another_embedding_model_needs_a_rebuild(entry, converse, home, tiny_encoders) -> None:
    converse(SMALL_TALK)
    with open_memory(entry) as memory:
        memory.index_new()
    registry = CompanionRegistry(home)
    changed = entry.companion.model_copy(
        update={"model": ModelChoice(embedding=str(tiny_encoders["bert"]))}
    )
    entry = registry.save(entry, changed)
    with pytest.raises(MemoryIndexError) as caught:
        open_memory(entry)
    assert "built with embedding model 'all-MiniLM-L6-v2'" in caught.value.message
    assert caught.value.hint and "hearth memory rebuild" in caught.value.hint
    memory, report = rebuild_memory(entry, clock=lambda: NOW)
    with memory:
        assert memory.embedder.dim == 32 and report.items == len(SMALL_TALK)
        assert memory.search("whales", 3)
