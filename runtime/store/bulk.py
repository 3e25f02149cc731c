"""Bulk writes for imports: whole message trees in one statement, and imported memories.

`TranscriptStore` inherits these; they live here to keep each file short. Like every store
write they join the caller's transaction (an import wraps a whole run in one).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime

from runtime.errors import NotFoundError
from runtime.store import sql
from runtime.store.models import (
    ROLES,
    Memory,
    NewMemory,
    NewTreeMessage,
    TreeRow,
    dump_metadata,
    format_timestamp,
    load_metadata,
    now_utc,
    parse_timestamp,
)
from runtime.store.reader import MESSAGES_HINT, StoreReader

INSERT_MEMORY = """
INSERT OR IGNORE INTO memories (kind, text, source, source_id, created_at, metadata)
VALUES (?, ?, ?, ?, ?, ?)
"""
MEMORY_COLUMNS = "id, kind, text, source, source_id, created_at, metadata"


def _stamp(moment: datetime | None) -> str:
    return format_timestamp(moment if moment is not None else now_utc())


class BulkWrites(StoreReader):
    """Tree inserts and memories; mixed into `TranscriptStore`."""

    _deferred_indexes: tuple[str, ...] = ()
    """CREATE INDEX statements that `fast_fill` dropped and `make_durable` runs again."""

    def message_source_ids(self, session_id: int) -> dict[str, int]:
        """The session's messages that have a source id: source id → message id."""
        rows = self._db.all(
            "SELECT source_id, id FROM messages WHERE session_id = ? AND source_id IS NOT NULL",
            (session_id,),
        )
        return dict(rows)

    def append_tree(
        self,
        session_id: int,
        messages: Sequence[NewTreeMessage],
        *,
        active_leaf_source_id: str | None = None,
    ) -> list[int]:
        """Add messages that name their parents by source id; return their ids, in order.

        A parent is either earlier in `messages` or already stored in the session (None: a new
        root), so branches keep their shape. Siblings keep the order given (ids grow with it).
        Afterwards the message with `active_leaf_source_id` (in the batch or stored) is the
        active leaf; with None, the last message of the batch is. One multi-row INSERT.
        """
        rows: list[TreeRow] = [
            (
                m.source_id, m.parent_source_id, m.role, m.text, _stamp(m.created_at), m.model,
                dump_metadata(m.metadata),
            )
            for m in messages
        ]  # fmt: skip
        return self.append_rows(session_id, rows, active_leaf_source_id=active_leaf_source_id)

    def append_rows(
        self,
        session_id: int,
        rows: Sequence[TreeRow],
        *,
        active_leaf_source_id: str | None = None,
    ) -> list[int]:
        """`append_tree` for rows already in stored form (timestamps and metadata as text).

        Imports prepare rows where they parse (possibly in another process), so the writer
        only maps source ids to row ids.
        """
        if not rows:
            return []
        with self._db.writing():
            self.get_session(session_id)  # NotFoundError for an unknown session
            # Inside the write transaction nobody else inserts, so the ids after the highest
            # ever used are ours: each row can name its parent's id before it is inserted.
            next_id = self._db.one(sql.LAST_MESSAGE_ID)[0] + 1
            batch: dict[str, int] = {}
            stored: dict[str, int] | None = None
            values = []
            for offset, row in enumerate(rows):
                source_id, parent_key, role, text, stamp, model, metadata = row
                if role not in ROLES:
                    raise ValueError(f"role {role!r} is not one of {sorted(ROLES)}")
                message_id = next_id + offset
                parent: int | None = None
                if parent_key is not None:
                    parent = batch.get(parent_key)
                    if parent is None:
                        stored = self.message_source_ids(session_id) if stored is None else stored
                        parent = stored.get(parent_key)
                    if parent is None:
                        raise NotFoundError(
                            f"parent {parent_key!r} of message {source_id!r} is not in "
                            f"session {session_id}",
                            hint=MESSAGES_HINT,
                        )
                if source_id is not None:
                    batch[source_id] = message_id
                values.append(
                    (message_id, session_id, parent, role, text, stamp, model, source_id, metadata)
                )
            self._db.conn.executemany(sql.INSERT_MESSAGE_WITH_ID, values)
            leaf = values[-1][0]
            if active_leaf_source_id is not None:
                found = batch.get(active_leaf_source_id)
                if found is None:
                    stored = self.message_source_ids(session_id) if stored is None else stored
                    found = stored.get(active_leaf_source_id)
                leaf = found if found is not None else leaf
            latest = max(value[5] for value in values)
            self._db.execute(sql.TOUCH_SESSION_AND_LEAF, (latest, leaf, session_id))
        return [value[0] for value in values]

    # --- filling a new store ------------------------------------------------------------------

    def fast_fill(self) -> None:
        """Make writes cheaper for a store that no one else can see yet, before filling it.

        The rollback journal stays in memory and nothing is synced: a crash loses the file,
        so this is only for a file the caller throws away when it fails (an import builds a
        new companion in a staging directory). Writing a big import through the WAL instead
        costs about a third more CPU time and a long commit. The message indexes that the
        import itself never reads (`sql.DEFERRED_INDEXES`) are dropped and built again, in one
        sorted pass, by `make_durable`: a third less insert time. Call it outside a transaction.
        """
        conn = self._db.conn
        conn.execute("PRAGMA journal_mode = MEMORY")
        conn.execute("PRAGMA synchronous = OFF")
        names = ", ".join("?" * len(sql.DEFERRED_INDEXES))
        deferred = conn.execute(
            f"SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND name IN ({names})",
            sql.DEFERRED_INDEXES,
        ).fetchall()
        with self._db.transaction():
            for name, _ in deferred:
                conn.execute(f"DROP INDEX {name}")
        self._deferred_indexes = tuple(statement for _, statement in deferred)

    def make_durable(self) -> None:
        """After `fast_fill` and the writes: the dropped indexes built again (which also checks
        their UNIQUE rules), back to the WAL journal, everything written to disk."""
        deferred, self._deferred_indexes = self._deferred_indexes, ()
        if deferred:
            with self._db.transaction():
                for statement in deferred:
                    self._db.conn.execute(statement)
        self._db.conn.execute("PRAGMA synchronous = NORMAL")
        self._db.conn.execute("PRAGMA journal_mode = WAL")
        # SQLite does not expose its file descriptor; syncing another one of the same file
        # flushes the same data.
        fd = os.open(self._db.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- memories ---------------------------------------------------------------------------

    def add_memories(self, memories: Iterable[NewMemory]) -> int:
        """Store memories, skipping any whose (source, source_id) is already there; count new."""
        added = 0
        with self._db.writing():
            for memory in memories:
                cursor = self._db.execute(
                    INSERT_MEMORY,
                    (
                        memory.kind, memory.text, memory.source, memory.source_id,
                        _stamp(memory.created_at), dump_metadata(memory.metadata),
                    ),
                )  # fmt: skip
                added += cursor.rowcount
        return added

    def has_memory(self, source: str, source_id: str) -> bool:
        """True when a memory with this (source, source_id) is stored."""
        row = self._db.one(
            "SELECT 1 FROM memories WHERE source = ? AND source_id = ?", (source, source_id)
        )
        return row is not None

    def memories(self, kind: str | None = None) -> list[Memory]:
        """Stored memories (of one kind, or all), oldest first."""
        query = f"SELECT {MEMORY_COLUMNS} FROM memories"
        params: tuple[str, ...] = ()
        if kind is not None:
            query += " WHERE kind = ?"
            params = (kind,)
        rows = self._db.all(query + " ORDER BY created_at, id", params)
        return [
            Memory(row[0], row[1], row[2], row[3], row[4], parse_timestamp(row[5]),
                   load_metadata(row[6]))
            for row in rows
        ]  # fmt: skip
