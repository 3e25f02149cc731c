"""Migrations: an old schema is brought up to date with its data; unknown files are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runtime.errors import StoreError
from runtime.store import LATEST_VERSION, MIGRATIONS, TranscriptStore, migrate, schema_version

OLD = "2024-01-02T03:04:05.000000+00:00"


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def index_names(path: Path) -> set[str]:
    conn = raw(path)
    try:
        rows = conn.execute("SELECT name FROM sqlite_schema WHERE type = 'index'").fetchall()
        return {name for (name,) in rows if not name.startswith("sqlite_")}
    finally:
        conn.close()


def test_migrations_are_documented_and_new_stores_are_current(store: TranscriptStore) -> None:
    assert LATEST_VERSION == len(MIGRATIONS) >= 2
    for step in MIGRATIONS:
        assert step.__doc__ and len(step.__doc__.split()) > 10, step.__name__
    assert schema_version(store._db.conn) == LATEST_VERSION
    assert {"sessions_source_key", "messages_source_key", "messages_by_parent"} <= index_names(
        store.path
    )


def test_a_version_1_store_is_migrated_with_its_data(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = raw(db_path)
    conn.execute("PRAGMA foreign_keys = ON")
    assert migrate(conn, target_version=1) == 1
    assert index_names(db_path) == set()
    session_rows = [
        (1, "old chat", "chatgpt", "conv-1"),
        (2, "same export imported twice", "chatgpt", "conv-1"),  # no uniqueness in version 1
    ]
    for row in session_rows:
        conn.execute(
            "INSERT INTO sessions (id, title, source, source_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (*row, OLD, OLD),
        )
    message_rows = [
        (1, 1, None, "user", "你好", None, "n1", "{}"),
        (2, 1, 1, "assistant", "안녕! 👋", "gpt-4o", "n2", '{"weight": 1}'),
        (3, 1, 1, "assistant", "duplicate node", "gpt-4o", "n2", "{}"),
    ]
    for row in message_rows:
        conn.execute(
            "INSERT INTO messages (id, session_id, parent_id, role, text, model, source_id,"
            " metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, OLD),
        )
    conn.execute("UPDATE sessions SET active_leaf_id = 2 WHERE id = 1")
    conn.close()

    with TranscriptStore.open(db_path) as store:
        assert schema_version(store._db.conn) == LATEST_VERSION
        path = store.active_path(1)
        assert [(m.text, m.model, m.metadata) for m in path] == [
            ("你好", None, {}),
            ("안녕! 👋", "gpt-4o", {"weight": 1}),
        ]
        assert store.alternatives_count(2) == 2
        # The first of each duplicate keeps its key; the later one keeps its content.
        assert store.find_session("chatgpt", "conv-1").id == 1
        assert store.get_session(2).source_id is None
        assert store.get_session(2).title == "same export imported twice"
        assert store.find_message(1, "n2").id == 2
        assert store.get_message(3).text == "duplicate node"
        with pytest.raises(StoreError, match="already stored as session 1"):
            store.create_session(source="chatgpt", source_id="conv-1")
        new = store.append(1, "user", "after the upgrade")
        assert new.id == 4 and new.parent_id == 2
    assert {"sessions_source_key", "messages_source_key"} <= index_names(db_path)


def test_a_store_from_a_newer_hearth_is_refused_untouched(db_path: Path) -> None:
    TranscriptStore.open(db_path).close()
    conn = raw(db_path)
    conn.execute("PRAGMA journal_mode = DELETE")  # so a switch to WAL would show in the header
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    before = db_path.read_bytes()

    with pytest.raises(StoreError) as caught:
        TranscriptStore.open(db_path)
    message = str(caught.value)
    assert str(db_path) in message
    assert f"schema version {LATEST_VERSION + 1}" in message
    assert f"up to {LATEST_VERSION}" in message
    assert caught.value.hint is not None and "upgrade Hearth" in caught.value.hint
    assert db_path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_text("these are my notes, not a database\n" * 200, encoding="utf-8")
    with pytest.raises(StoreError, match="is not a Hearth transcript"):
        TranscriptStore.open(db_path)
    assert db_path.read_text(encoding="utf-8").startswith("these are my notes")


def test_a_damaged_store_is_refused(db_path: Path) -> None:
    with TranscriptStore.open(db_path) as store:
        store.append(store.create_session().id, "user", "hi")
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # page 1 holds the schema
    db_path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="is not a Hearth transcript"):
        TranscriptStore.open(db_path)


def test_another_programs_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = raw(db_path)
    conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.close()
    with pytest.raises(StoreError, match="another program"):
        TranscriptStore.open(db_path)


def test_migrate_refuses_an_unknown_target(tmp_path: Path) -> None:
    conn = raw(tmp_path / "x.sqlite")
    with pytest.raises(ValueError, match="outside"):
        migrate(conn, target_version=LATEST_VERSION + 1)
    assert migrate(conn, target_version=0) == 0
    assert migrate(conn) == LATEST_VERSION
    assert migrate(conn) == LATEST_VERSION  # nothing left to do
    conn.close()
