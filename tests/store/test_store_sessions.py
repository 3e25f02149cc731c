"""Sessions, import keys, errors for unknown ids, text round trips, timestamps, file mode."""

from __future__ import annotations

import sqlite3
import stat
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from runtime.errors import NotFoundError, StoreError
from runtime.store import TranscriptStore, format_timestamp


def test_session_lifecycle(store: TranscriptStore) -> None:
    created = store.create_session("first", source="chatgpt", source_id="conv-1")
    time.sleep(0.001)
    assert store.get_session(created.id) == created
    assert (created.title, created.source, created.source_id) == ("first", "chatgpt", "conv-1")
    assert created.active_leaf_id is None
    assert created.created_at == created.updated_at

    renamed = store.rename_session(created.id, "better title")
    assert renamed.title == "better title"
    assert renamed.updated_at > created.updated_at
    assert store.rename_session(created.id, None).title is None

    message = store.append(created.id, "user", "hi")
    store.delete_session(created.id)
    with pytest.raises(NotFoundError):
        store.get_session(created.id)
    with pytest.raises(NotFoundError):
        store.get_message(message.id)  # messages went with it


def test_list_sessions_newest_first_counting_every_branch(store: TranscriptStore) -> None:
    old = store.create_session("old")
    new = store.create_session("new")
    store.append(new.id, "user", "q")
    reply = store.append(new.id, "assistant", "a")
    store.regenerate(reply.id, "a2")
    assert [s.title for s in store.list_sessions()] == ["new", "old"]

    store.append(old.id, "user", "now old is the latest")
    summaries = store.list_sessions()
    assert [(s.id, s.message_count) for s in summaries] == [(old.id, 1), (new.id, 3)]
    assert summaries[1].active_leaf_id == store.get_session(new.id).active_leaf_id


def test_every_write_moves_updated_at_forward(store: TranscriptStore) -> None:
    session = store.create_session()
    seen = [store.get_session(session.id).updated_at]
    time.sleep(0.001)

    def check() -> None:
        seen.append(store.get_session(session.id).updated_at)
        assert seen[-1] > seen[-2]
        time.sleep(0.001)  # so the next write is surely at a later microsecond

    user = store.append(session.id, "user", "q")
    check()
    reply = store.append(session.id, "assistant", "a")
    check()
    store.set_text(reply.id, "a!")
    check()
    store.regenerate(reply.id, "b")
    check()
    store.edit(user.id, "q2")
    check()
    store.switch_to(reply.id)
    check()
    store.delete_branch(reply.id)
    check()
    store.rename_session(session.id, "t")
    check()


def test_imported_messages_date_the_session_by_their_own_time(store: TranscriptStore) -> None:
    then = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)
    session = store.create_session("import", source="chatgpt", source_id="c", created_at=then)
    store.append(session.id, "user", "q", created_at=then + timedelta(minutes=5))
    store.append(session.id, "assistant", "a", created_at=then + timedelta(minutes=1))
    store.append(session.id, "user", "aside", created_at=then, parent_id=None, activate=False)

    stored = store.get_session(session.id)
    assert stored.created_at == then
    assert stored.updated_at == then + timedelta(minutes=5)  # never backwards


def test_session_import_key_is_unique(store: TranscriptStore) -> None:
    first = store.create_session(source="chatgpt", source_id="abc")
    with pytest.raises(StoreError, match=f"already stored as session {first.id}"):
        store.create_session(source="chatgpt", source_id="abc")

    other_source = store.create_session(source="claude", source_id="abc")
    no_key = [store.create_session(source="chatgpt") for _ in range(2)]
    assert store.find_session("chatgpt", "abc") == first
    assert store.find_session("claude", "abc") == other_source
    assert store.find_session("chatgpt", "missing") is None
    assert len({s.id for s in [first, other_source, *no_key]}) == 4


def test_message_import_key_is_unique_within_a_session(store: TranscriptStore) -> None:
    one = store.create_session()
    two = store.create_session()
    first = store.append(one.id, "user", "q", source_id="node-1")
    with pytest.raises(StoreError, match=f"already stored in session {one.id}"):
        store.append(one.id, "user", "q again", source_id="node-1")

    elsewhere = store.append(two.id, "user", "q", source_id="node-1")
    store.append(one.id, "user", "no key")
    store.append(one.id, "user", "no key either")
    assert store.find_message(one.id, "node-1") == first
    assert store.find_message(two.id, "node-1") == elsewhere
    assert store.find_message(one.id, "node-2") is None
    assert [m.text for m in store.messages(one.id)] == ["q", "no key", "no key either"]


def test_unknown_ids_raise_not_found_with_a_hint(store: TranscriptStore) -> None:
    session = store.create_session()
    message = store.append(session.id, "user", "q")
    other = store.create_session()

    session_calls = [
        lambda: store.get_session(404),
        lambda: store.rename_session(404, "x"),
        lambda: store.delete_session(404),
        lambda: store.append(404, "user", "x"),
        lambda: store.append(404, "user", "x", parent_id=None),
        lambda: store.active_path(404),
        lambda: store.active_path_with_alternatives(404),
        lambda: store.messages(404),
    ]
    for call in session_calls:
        with pytest.raises(NotFoundError, match=r"^session 404 not found$") as caught:
            call()
        assert caught.value.hint is not None and "hearth sessions list" in caught.value.hint

    message_calls = [
        store.get_message, store.children, store.siblings, store.alternatives_count,
        store.switch_to, store.delete_branch,
        lambda i: store.set_text(i, "x"),
        lambda i: store.regenerate(i, "x"),
        lambda i: store.edit(i, "x"),
    ]  # fmt: skip
    for call in message_calls:
        with pytest.raises(NotFoundError, match=r"^message 9999 not found$") as caught:
            call(9999)
        assert caught.value.hint is not None and "hearth sessions show" in caught.value.hint

    # A parent that exists, but in another session, is not found *there*.
    with pytest.raises(NotFoundError, match=f"message {message.id} not found in session"):
        store.append(other.id, "assistant", "x", parent_id=message.id)
    assert store.messages(session.id) == [message]


TEXTS = [
    "你好，今天过得怎么样？我一直在想你说的那本书。",
    "안녕하세요! 오늘 날씨가 정말 좋네요. 같이 산책할까요?",
    "family: 👨‍👩‍👧‍👦 flag: 🇰🇷 skin tone: 👋🏽 keycap: 1️⃣",
    "combining: e\u0301 vs é, zero-width joiner\u200d, RTL: שלום",
    "Apa kabar? Aku kangen kamu 🥺",
    "tabs\tand\nnewlines\r\n and a NUL\x00 in the middle",
    "",
]


def test_text_round_trips_byte_exact(db_path: Path) -> None:
    with TranscriptStore.open(db_path) as store:
        session = store.create_session("多言語 ✨")
        for text in TEXTS:
            store.append(session.id, "user", text, metadata={"note": "메모 📝"})

    with TranscriptStore.open(db_path) as store:
        messages = store.active_path(session.id)
        assert [m.text for m in messages] == TEXTS
        assert {m.metadata["note"] for m in messages} == {"메모 📝"}
        assert store.get_session(session.id).title == "多言語 ✨"

    conn = sqlite3.connect(db_path)
    stored = [row[0] for row in conn.execute("SELECT CAST(text AS BLOB) FROM messages ORDER BY id")]
    conn.close()
    assert stored == [text.encode("utf-8") for text in TEXTS]


def test_timestamps_are_utc_iso_strings(store: TranscriptStore) -> None:
    seoul = timezone(timedelta(hours=9))
    session = store.create_session(created_at=datetime(2024, 5, 1, 9, 30, tzinfo=seoul))
    message = store.append(session.id, "user", "q", created_at=datetime(2024, 5, 1, tzinfo=UTC))

    assert session.to_dict()["created_at"] == "2024-05-01T00:30:00.000000+00:00"
    assert message.to_dict()["created_at"] == "2024-05-01T00:00:00.000000+00:00"
    assert store.list_sessions()[0].to_dict()["message_count"] == 1
    assert store.get_session(session.id).created_at == datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="no timezone"):
        format_timestamp(datetime(2024, 5, 1))


def test_new_store_file_is_private(db_path: Path) -> None:
    with TranscriptStore.open(db_path) as store:
        store.append(store.create_session().id, "user", "secret")
        files = [db_path, *db_path.parent.glob("transcript.sqlite-*")]
        assert {f.name for f in files} >= {"transcript.sqlite", "transcript.sqlite-wal"}
        for file in files:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
        mode = store._db.one("PRAGMA journal_mode")[0]
        foreign_keys = store._db.one("PRAGMA foreign_keys")[0]
        assert (mode, foreign_keys) == ("wal", 1)
