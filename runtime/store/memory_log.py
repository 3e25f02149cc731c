"""Reads and writes for long-term memory: new messages to index, memory edits and their log.

`TranscriptStore` inherits these; the memory package (runtime/memory) is their only user. The
index itself lives elsewhere (it is derived); what is here is what the index is derived from,
and the user's choices about it (forgotten turns, the history of memory edits).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from runtime.errors import NotFoundError
from runtime.store import sql
from runtime.store.bulk import MEMORY_COLUMNS
from runtime.store.models import (
    Memory,
    Message,
    format_timestamp,
    load_metadata,
    now_utc,
    parse_timestamp,
)
from runtime.store.reader import StoreReader

FORGOTTEN_KIND = "forgotten"
"""A forgotten memory keeps its row, emptied, so that re-importing the export skips it."""


@dataclass(frozen=True)
class MemoryEvent:
    """One change to memory, as `hearth memory history` shows it."""

    id: int
    at: datetime
    action: str
    """"core.add", "core.edit", "core.forget", "memory.add", "memory.edit", "forget", …"""
    target: str
    """A core block label ("user") or a memory id ("memory:12", "turn:345")."""
    before: str | None
    after: str | None


def _memory(row: tuple) -> Memory:
    return Memory(
        row[0], row[1], row[2], row[3], row[4], parse_timestamp(row[5]), load_metadata(row[6])
    )


class MemoryRecords(StoreReader):
    """Mixed into `TranscriptStore`."""

    # --- what to index ------------------------------------------------------------------------

    def messages_after(self, message_id: int, limit: int = 10_000) -> list[Message]:
        """Messages with an id above `message_id` (all sessions), oldest first, at most `limit`."""
        rows = self._db.all(
            f"SELECT {sql.MESSAGE_COLUMNS} FROM messages WHERE id > ? ORDER BY id LIMIT ?",
            (message_id, limit),
        )
        return [sql.message_from_row(row) for row in rows]

    def existing_message_ids(self, message_ids: Collection[int]) -> set[int]:
        """Those of `message_ids` that are still stored."""
        ids = list(message_ids)
        found: set[int] = set()
        for start in range(0, len(ids), 500):  # SQLite limits the number of parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.all(f"SELECT id FROM messages WHERE id IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return found

    def last_ids(self) -> tuple[int, int]:
        """The highest message id and memory id ever used (0 when none)."""
        row = self._db.one(
            "SELECT (SELECT coalesce(max(id), 0) FROM messages),"
            " (SELECT coalesce(max(id), 0) FROM memories)"
        )
        return int(row[0]), int(row[1])

    def session_ids(self) -> set[int]:
        """The id of every session."""
        return {row[0] for row in self._db.all("SELECT id FROM sessions")}

    def sample_texts(self, limit: int = 2000) -> list[str]:
        """The text of the latest `limit` user and assistant messages (language detection)."""
        rows = self._db.all(
            "SELECT text FROM messages WHERE role != 'system' ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [row[0] for row in rows]

    # --- stored memories ------------------------------------------------------------------------

    def memories_after(self, memory_id: int) -> list[Memory]:
        """Memories with an id above `memory_id`, forgotten ones included, by id."""
        rows = self._db.all(
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE id > ? ORDER BY id", (memory_id,)
        )
        return [_memory(row) for row in rows]

    def get_memory(self, memory_id: int) -> Memory:
        """The stored memory with this id (NotFoundError when there is none, or it is forgotten)."""
        row = self._db.one(
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE id = ? AND kind != ?",
            (memory_id, FORGOTTEN_KIND),
        )
        if row is None:
            raise NotFoundError(
                f"memory:{memory_id} not found",
                hint="see stored memories with `hearth memory list`",
            )
        return _memory(row)

    def set_memory_text(self, memory_id: int, text: str) -> None:
        """Replace a stored memory's text."""
        with self._db.writing():
            self.get_memory(memory_id)
            self._db.execute("UPDATE memories SET text = ? WHERE id = ?", (text, memory_id))

    def forget_memory(self, memory_id: int) -> None:
        """Empty a stored memory: its text goes, its (source, source_id) stays as a tombstone."""
        with self._db.writing():
            self.get_memory(memory_id)
            self._db.execute(
                "UPDATE memories SET kind = ?, text = '', metadata = '{}' WHERE id = ?",
                (FORGOTTEN_KIND, memory_id),
            )

    # --- forgotten turns and the log -----------------------------------------------------------

    def forget_item(self, item: str) -> None:
        """Remember that the index must never hold `item` (e.g. "turn:345") again."""
        with self._db.writing():
            self._db.execute(
                "INSERT OR IGNORE INTO memory_forgotten (item, at) VALUES (?, ?)",
                (item, format_timestamp(now_utc())),
            )

    def forgotten_items(self) -> set[str]:
        """Every item forgotten with `forget_item`."""
        return {row[0] for row in self._db.all("SELECT item FROM memory_forgotten")}

    def log_memory_event(
        self, action: str, target: str, before: str | None, after: str | None
    ) -> MemoryEvent:
        """Record a change to memory, now."""
        at = now_utc()
        with self._db.writing():
            row = self._db.one(
                "INSERT INTO memory_events (at, action, target, before, after)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (format_timestamp(at), action, target, before, after),
            )
        return MemoryEvent(int(row[0]), at, action, target, before, after)

    def memory_events(self, limit: int | None = None) -> list[MemoryEvent]:
        """The memory change log, newest first."""
        rows = self._db.all(
            "SELECT id, at, action, target, before, after FROM memory_events"
            " ORDER BY id DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [
            MemoryEvent(row[0], parse_timestamp(row[1]), row[2], row[3], row[4], row[5])
            for row in rows
        ]
