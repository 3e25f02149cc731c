"""Bulk writes for imports: trees with parents named by source id, and the memories table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runtime.errors import NotFoundError
from runtime.store import NewMemory, NewTreeMessage, TranscriptStore

T0 = datetime(2025, 2, 14, 20, 30, tzinfo=UTC)


def _message(source_id: str, parent: str | None, role: str = "user", **kw) -> NewTreeMessage:
    return NewTreeMessage(
        role=role, text=f"text of {source_id}", created_at=T0, source_id=source_id,
        parent_source_id=parent, **kw,
    )  # fmt: skip


def test_a_tree_keeps_its_shape_sibling_order_and_chosen_leaf(store: TranscriptStore) -> None:
    session = store.create_session("imported", source="chatgpt", source_id="c1")
    ids = store.append_tree(
        session.id,
        [
            _message("q", None),
            _message("a1", "q", "assistant", model="gpt-4o", metadata={"voice": True}),
            _message("a2", "q", "assistant"),
            _message("q2", "a1"),
        ],
        active_leaf_source_id="a2",
    )
    by_source = dict(zip(["q", "a1", "a2", "q2"], ids, strict=True))
    assert [m.text for m in store.active_path(session.id)] == ["text of q", "text of a2"]
    steps = store.active_path_with_alternatives(session.id)
    assert [(s.position, s.alternatives) for s in steps] == [(1, 1), (2, 2)]
    assert store.get_message(by_source["q2"]).parent_id == by_source["a1"]
    first_reply = store.get_message(by_source["a1"])
    assert (first_reply.model, first_reply.metadata, first_reply.created_at) == (
        "gpt-4o", {"voice": True}, T0,
    )  # fmt: skip
    assert store.message_source_ids(session.id) == by_source


def test_new_messages_can_hang_under_stored_ones_and_the_last_is_active_by_default(
    store: TranscriptStore,
) -> None:
    session = store.create_session()
    store.append_tree(session.id, [_message("q", None), _message("a", "q", "assistant")])
    store.append_tree(session.id, [_message("q2", "a"), _message("a2", "q2", "assistant")])
    assert [m.source_id for m in store.active_path(session.id)] == ["q", "a", "q2", "a2"]


def test_an_unknown_parent_or_session_fails_and_writes_nothing(store: TranscriptStore) -> None:
    session = store.create_session()
    with pytest.raises(NotFoundError, match="parent 'ghost' of message 'x'"):
        store.append_tree(session.id, [_message("ok", None), _message("x", "ghost")])
    assert store.messages(session.id) == []
    with pytest.raises(NotFoundError, match="session 999 not found"):
        store.append_tree(999, [_message("x", None)])
    assert store.append_tree(session.id, []) == []


def test_memories_are_kept_once_per_source_id(store: TranscriptStore) -> None:
    memories = [
        NewMemory("saved_memory", "Likes tea.", "chatgpt", "m1", T0),
        NewMemory("saved_memory", "Likes tea.", "chatgpt", "m1", T0),
        NewMemory("saved_memory", "Likes tea.", "claude", "m1", T0, {"project": "x"}),
        NewMemory("note", "无来源", "hearth"),
    ]
    assert store.add_memories(memories) == 3
    assert store.add_memories(memories[:3]) == 0
    assert store.has_memory("chatgpt", "m1") and not store.has_memory("chatgpt", "m2")
    stored = store.memories()
    assert [(m.kind, m.text, m.source, m.source_id) for m in stored] == [
        ("saved_memory", "Likes tea.", "chatgpt", "m1"),
        ("saved_memory", "Likes tea.", "claude", "m1"),
        ("note", "无来源", "hearth", None),
    ]
    assert [m.text for m in store.memories("note")] == ["无来源"]
    assert next(m for m in stored if m.source == "claude").metadata == {"project": "x"}
