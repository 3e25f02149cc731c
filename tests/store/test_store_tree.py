"""The message tree: appends, regenerations, edits, switching branches, deleting branches."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.errors import UsageError
from runtime.store import Message, NewMessage, TranscriptStore


def texts(messages: list[Message]) -> list[str]:
    return [message.text for message in messages]


def ids(messages: list[Message]) -> list[int]:
    return [message.id for message in messages]


def chat(store: TranscriptStore, *turns: str) -> tuple[int, list[Message]]:
    """A session with alternating user/assistant turns on one branch."""
    session = store.create_session("chat")
    roles = ("user", "assistant")
    added = [store.append(session.id, roles[i % 2], text) for i, text in enumerate(turns)]
    return session.id, added


def test_append_continues_the_active_branch(store: TranscriptStore) -> None:
    session_id, (u1, a1, u2, a2) = chat(store, "hi", "hello", "how are you?", "fine")

    assert [m.parent_id for m in (u1, a1, u2, a2)] == [None, u1.id, a1.id, u2.id]
    assert texts(store.active_path(session_id)) == ["hi", "hello", "how are you?", "fine"]
    assert store.get_session(session_id).active_leaf_id == a2.id
    assert store.get_message(a1.id) == a1


def test_explicit_none_parent_starts_another_root(store: TranscriptStore) -> None:
    session_id, (first, _reply) = chat(store, "root one", "reply")
    second = store.append(session_id, "user", "root two", parent_id=None)

    assert second.parent_id is None
    assert ids(store.siblings(second.id)) == [first.id, second.id]
    assert store.alternatives_count(first.id) == 2
    assert texts(store.active_path(session_id)) == ["root two"]


def test_append_without_activate_keeps_the_active_leaf(store: TranscriptStore) -> None:
    session_id, (user, reply) = chat(store, "q", "a")
    other = store.append(session_id, "assistant", "b", parent_id=user.id, activate=False)

    assert store.get_session(session_id).active_leaf_id == reply.id
    assert ids(store.children(user.id)) == [reply.id, other.id]


def test_regenerate_adds_an_active_sibling(store: TranscriptStore) -> None:
    session_id, (user, first) = chat(store, "tell a joke", "joke one")
    second = store.regenerate(first.id, "joke two", model="tiny-llama")

    assert (second.role, second.parent_id, second.model) == ("assistant", user.id, "tiny-llama")
    assert ids(store.siblings(first.id)) == [first.id, second.id]
    assert store.alternatives_count(second.id) == 2
    assert store.alternatives_count(user.id) == 1
    assert texts(store.active_path(session_id)) == ["tell a joke", "joke two"]
    steps = store.active_path_with_alternatives(session_id)
    assert [(s.message.id, s.position, s.alternatives) for s in steps] == [
        (user.id, 1, 1),
        (second.id, 2, 2),
    ]

    store.switch_to(first.id)
    steps = store.active_path_with_alternatives(session_id)
    assert [(s.message.text, s.position, s.alternatives) for s in steps] == [
        ("tell a joke", 1, 1),
        ("joke one", 1, 2),
    ]


def test_regenerate_refuses_a_user_message(store: TranscriptStore) -> None:
    _session_id, (user, _reply) = chat(store, "q", "a")
    with pytest.raises(UsageError, match=f"message {user.id} is a user message"):
        store.regenerate(user.id, "nope")


def test_edit_adds_a_user_sibling_and_old_replies_stay_reachable(store: TranscriptStore) -> None:
    session_id, (u1, a1, u2, a2) = chat(store, "hi", "hello", "wrong question", "answer")
    edited = store.edit(u2.id, "right question")

    assert (edited.role, edited.parent_id) == ("user", a1.id)
    assert ids(store.siblings(u2.id)) == [u2.id, edited.id]
    assert texts(store.active_path(session_id)) == ["hi", "hello", "right question"]
    assert ids(store.children(u2.id)) == [a2.id]  # the old reply is still there

    leaf = store.switch_to(u2.id)
    assert leaf.id == a2.id
    assert ids(store.active_path(session_id)) == [u1.id, a1.id, u2.id, a2.id]


def test_edit_refuses_an_assistant_message(store: TranscriptStore) -> None:
    _session_id, (_user, reply) = chat(store, "q", "a")
    with pytest.raises(UsageError, match="only user messages can be edited"):
        store.edit(reply.id, "nope")


def test_switch_to_follows_the_newest_child_down_to_a_leaf(store: TranscriptStore) -> None:
    session_id, (user, a1, u_deep, a_deep) = chat(store, "q", "a1", "follow-up", "deep answer")
    a2 = store.regenerate(a1.id, "a2")  # newer than a1, so newest child of `user`

    assert store.switch_to(user.id).id == a2.id
    assert store.switch_to(a1.id).id == a_deep.id
    assert ids(store.active_path(session_id)) == [user.id, a1.id, u_deep.id, a_deep.id]
    # A message in the middle of the branch: its newest descendant chain, not itself.
    later = store.append(session_id, "user", "newer follow-up", parent_id=a1.id, activate=False)
    assert store.switch_to(a1.id).id == later.id
    assert store.get_session(session_id).active_leaf_id == later.id


def test_path_alternatives_agree_with_siblings_on_a_bushy_tree(store: TranscriptStore) -> None:
    session_id, (u1, a1, u2, a2) = chat(store, "u1", "a1", "u2", "a2")
    store.regenerate(a1.id, "a1 b")
    store.regenerate(a1.id, "a1 c")
    store.switch_to(a1.id)
    store.edit(u2.id, "u2 b")
    store.append(session_id, "user", "other root", parent_id=None, activate=False)
    store.switch_to(u2.id)

    steps = store.active_path_with_alternatives(session_id)
    assert [s.message.id for s in steps] == [u1.id, a1.id, u2.id, a2.id]
    for step in steps:
        siblings = ids(store.siblings(step.message.id))
        assert step.alternatives == len(siblings) == store.alternatives_count(step.message.id)
        assert step.position == siblings.index(step.message.id) + 1
    assert [(s.position, s.alternatives) for s in steps] == [(1, 2), (1, 3), (1, 2), (1, 1)]


def test_delete_branch_outside_the_active_path_keeps_the_leaf(store: TranscriptStore) -> None:
    session_id, (_user, first) = chat(store, "q", "a1")
    second = store.regenerate(first.id, "a2")
    store.append(session_id, "user", "under a1", parent_id=first.id, activate=False)

    assert store.delete_branch(first.id) == 2
    assert store.get_session(session_id).active_leaf_id == second.id
    assert ids(store.siblings(second.id)) == [second.id]
    assert [m.text for m in store.messages(session_id)] == ["q", "a2"]


def test_delete_branch_moves_the_leaf_to_the_newest_remaining_sibling(
    store: TranscriptStore,
) -> None:
    session_id, (user, a1, u_deep, _a_deep) = chat(store, "q", "a1", "more", "deeper")
    a2 = store.regenerate(a1.id, "a2")
    a3 = store.regenerate(a1.id, "a3")
    after_a2 = store.append(session_id, "user", "after a2", parent_id=a2.id, activate=False)

    store.delete_branch(a3.id)
    assert store.get_session(session_id).active_leaf_id == after_a2.id  # a2's branch, its leaf

    store.switch_to(u_deep.id)
    store.delete_branch(u_deep.id)  # leaf was below; no sibling of u_deep remains
    assert store.get_session(session_id).active_leaf_id == a1.id
    assert ids(store.active_path(session_id)) == [user.id, a1.id]


def test_delete_branch_of_the_only_root_empties_the_session(store: TranscriptStore) -> None:
    session_id, (root, *_rest) = chat(store, "q", "a", "q2")
    assert store.delete_branch(root.id) == 3
    assert store.get_session(session_id).active_leaf_id is None
    assert store.active_path(session_id) == []
    assert store.list_sessions()[0].message_count == 0


def test_a_deep_conversation_can_be_deleted(store: TranscriptStore) -> None:
    # Deep enough that a per-level cascade would hit SQLite's recursion limit (1000).
    session = store.create_session("long")
    new = [NewMessage("user" if i % 2 == 0 else "assistant", f"turn {i}") for i in range(3000)]
    message_ids = store.append_many(session.id, new)
    assert len(store.active_path(session.id)) == 3000

    assert store.delete_branch(message_ids[1]) == 2999
    assert ids(store.active_path(session.id)) == [message_ids[0]]
    store.append_many(session.id, new)
    store.delete_session(session.id)
    assert store.list_sessions() == []


def test_append_many_builds_a_chain_under_the_active_leaf(store: TranscriptStore) -> None:
    session_id, (user, reply) = chat(store, "q", "a")
    added = store.append_many(
        session_id,
        [NewMessage("user", "q2", source_id="m1"), NewMessage("assistant", "a2", model="m")],
    )

    first, second = (store.get_message(i) for i in added)
    assert (first.parent_id, second.parent_id) == (reply.id, first.id)
    assert (first.source_id, second.model) == ("m1", "m")
    assert texts(store.active_path(session_id)) == ["q", "a", "q2", "a2"]
    assert store.append_many(session_id, []) == []

    detached = store.append_many(
        session_id, [NewMessage("user", "aside")], parent_id=user.id, activate=False
    )
    assert store.get_session(session_id).active_leaf_id == second.id
    assert store.get_message(detached[0]).parent_id == user.id


def test_ids_are_never_reused_after_a_delete(store: TranscriptStore) -> None:
    session_id, (_user, reply) = chat(store, "q", "a")
    store.delete_branch(reply.id)
    again = store.append(session_id, "assistant", "a again")
    many = store.append_many(session_id, [NewMessage("user", "x")])
    assert again.id > reply.id
    assert many[0] > again.id


def test_an_interrupted_reply_keeps_its_partial_text(db_path: Path) -> None:
    store = TranscriptStore.open(db_path)
    session = store.create_session()
    store.append(session.id, "user", "write a poem")  # committed before generation starts
    reply = store.append(
        session.id, "assistant", "", model="tiny", metadata={"seed": 7}, partial=True
    )
    for text in ("Roses", "Roses are", "Roses are red,"):
        store.set_text(reply.id, text)
    store.close()  # the generation never finished

    store = TranscriptStore.open(db_path)
    saved = store.get_message(reply.id)
    assert (saved.text, saved.partial, saved.metadata) == (
        "Roses are red,",
        True,
        {"seed": 7, "partial": True},
    )
    assert texts(store.active_path(session.id)) == ["write a poem", "Roses are red,"]

    store.set_text(reply.id, "Roses are red, violets are blue.", partial=False)
    finished = store.get_message(reply.id)
    assert (finished.partial, finished.metadata) == (False, {"seed": 7})
    store.set_text(reply.id, "redo", partial=True)
    assert store.get_message(reply.id).metadata == {"seed": 7, "partial": True}
    store.close()


def test_regenerate_can_start_as_a_partial_reply(store: TranscriptStore) -> None:
    _session_id, (_user, first) = chat(store, "q", "a")
    second = store.regenerate(first.id, "", partial=True)
    assert store.get_message(second.id).partial is True
    assert store.get_message(first.id).partial is False
