"""The transcript schema, as an append-only list of migrations applied when a store is opened.

`PRAGMA user_version` holds how many migrations a database has had. Opening applies the missing
ones in order, each in its own transaction together with the version bump, so a crash between two
migrations leaves a database at a known version. Never edit or reorder a released migration: add
a new one at the end, with a docstring saying why it exists.

A migration runs inside a transaction, where SQLite ignores `PRAGMA foreign_keys`; one that ever
needs to rebuild a table must check `PRAGMA foreign_key_check` itself before returning.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from runtime.errors import StoreError

log = logging.getLogger(__name__)

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(function: Migration) -> Migration:
    """Register `function` as the next migration; its place in the file is its version."""
    MIGRATIONS.append(function)
    return function


@migration
def create_tables(conn: sqlite3.Connection) -> None:
    """The tables: sessions, and messages as a tree (each message points at its parent).

    AUTOINCREMENT keeps ids from ever being reused after a delete: the memory index and the
    training datasets refer to messages by id, and users type session ids they remember.
    The parent key includes the session, so SQLite itself refuses a parent from another session.
    Removing a branch deletes its rows explicitly (no cascade on parent_id): a cascade recurses
    once per level and a long conversation is thousands of levels deep.
    """
    conn.execute(
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT,
            source TEXT NOT NULL DEFAULT 'hearth',
            source_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            active_leaf_id INTEGER REFERENCES messages (id) ON DELETE SET NULL
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            parent_id INTEGER,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            model TEXT,
            source_id TEXT,
            metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
            UNIQUE (session_id, id),
            FOREIGN KEY (session_id, parent_id) REFERENCES messages (session_id, id)
        )
        """
    )


@migration
def add_indexes_and_import_keys(conn: sqlite3.Connection) -> None:
    """Indexes for the tree walks and session list, and the keys that make imports idempotent.

    A session is unique by (source, source_id) and a message by (session_id, source_id) when the
    export gave an id, so re-importing a file finds what is there instead of adding it twice.
    A version-1 store has no such rule and may hold duplicates: the first row keeps its
    source_id and the later ones lose it (their content stays), so the unique index can be built.
    """
    conn.execute(
        """
        UPDATE sessions SET source_id = NULL
        WHERE source_id IS NOT NULL AND id NOT IN (
            SELECT min(id) FROM sessions WHERE source_id IS NOT NULL GROUP BY source, source_id
        )
        """
    )
    conn.execute(
        """
        UPDATE messages SET source_id = NULL
        WHERE source_id IS NOT NULL AND id NOT IN (
            SELECT min(id) FROM messages WHERE source_id IS NOT NULL
            GROUP BY session_id, source_id
        )
        """
    )
    conn.execute(
        "CREATE UNIQUE INDEX sessions_source_key ON sessions (source, source_id)"
        " WHERE source_id IS NOT NULL"
    )
    conn.execute(
        "CREATE UNIQUE INDEX messages_source_key ON messages (session_id, source_id)"
        " WHERE source_id IS NOT NULL"
    )
    # Children of a message, roots of a session (parent_id IS NULL) and message counts per
    # session all come from this index; it is also what the parent foreign key searches.
    conn.execute("CREATE INDEX messages_by_parent ON messages (session_id, parent_id)")
    conn.execute("CREATE INDEX sessions_by_update ON sessions (updated_at)")
    # Deleting a message makes SQLite look for sessions whose active leaf it was; without this
    # index that is a scan of every session per deleted message.
    conn.execute("CREATE INDEX sessions_by_leaf ON sessions (active_leaf_id)")


@migration
def add_memories(conn: sqlite3.Connection) -> None:
    """A table for memories that come from outside the transcript (imports, memory letters).

    ChatGPT saved memory, custom instructions, Claude memories and card lorebooks are facts, not
    messages. They are kept here, durably and de-duplicated by (source, source_id), so the
    long-term memory index can be (re)built from the transcript file alone, like everything
    else derived. `kind` is the importer's `MemoryKind`; `metadata` is free-form JSON.
    """
    conn.execute(
        """
        CREATE TABLE memories (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            source TEXT NOT NULL,
            source_id TEXT,
            created_at TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
            UNIQUE (source, source_id)
        )
        """
    )


@migration
def add_memory_log(conn: sqlite3.Connection) -> None:
    """What long-term memory must keep that cannot be derived again from the transcript.

    `memory_events`: every change to core memories and stored memories, with the text before
    and after and the time (`hearth memory history`). `memory_forgotten`: transcript turns the
    user asked to forget; the memory index is rebuilt from this file, so the choice lives here.
    """
    conn.execute(
        """
        CREATE TABLE memory_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            before TEXT,
            after TEXT
        )
        """
    )
    conn.execute(
        "CREATE TABLE memory_forgotten (item TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID"
    )


LATEST_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The number of migrations the database has had (`PRAGMA user_version`)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _database_file(conn: sqlite3.Connection) -> str:
    """The main database's file name, for error messages."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or ":memory:"
    return "?"


def check_not_newer(conn: sqlite3.Connection, version: int) -> None:
    """Raise StoreError when `version` is beyond the migrations this code has."""
    if version > LATEST_VERSION:
        raise StoreError(
            f"transcript {_database_file(conn)} has schema version {version}, newer than this "
            f"Hearth knows (up to {LATEST_VERSION})",
            hint="it was written by a newer Hearth; upgrade Hearth to open it",
        )


def migrate(conn: sqlite3.Connection, target_version: int | None = None) -> int:
    """Apply the migrations the database lacks, up to `target_version` (default: all).

    `conn` must be in autocommit mode (`isolation_level=None`). Returns the version reached.
    Raises StoreError when the database is newer than this code.
    """
    target = LATEST_VERSION if target_version is None else target_version
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"target_version {target} outside 0..{LATEST_VERSION}")
    version = schema_version(conn)
    check_not_newer(conn, version)
    while version < target:
        # IMMEDIATE takes the write lock before reading the version, so two processes opening
        # the same new store cannot both apply migration 1.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)
            check_not_newer(conn, version)
            if version >= target:
                conn.execute("COMMIT")
                break
            step = MIGRATIONS[version]
            step(conn)
            # user_version is part of the database header, so it commits with the migration.
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        version += 1
        log.info("transcript schema migrated to version %d (%s)", version, step.__name__)
    return version
