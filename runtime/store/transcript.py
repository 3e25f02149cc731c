"""The transcript store: a companion's sessions, each a tree of messages with an active branch.

Regenerating a reply or editing a user turn adds a sibling instead of overwriting, so every
version stays reachable; the session's active leaf says which branch is shown and continued.
Reads (sessions, paths, siblings) are in `reader.StoreReader`, which this class extends.

    with TranscriptStore.open(path) as store:
        session = store.create_session("first chat")
        store.append(session.id, "user", "hi")
        reply = store.append(session.id, "assistant", "", model="llama", partial=True)
        store.set_text(reply.id, "hello!", partial=False)   # as tokens arrive, then at the end

Every write moves the session's `updated_at` forward to the time of the write (for an append,
the message's `created_at`, so an import sorts sessions by when they were really used); it
never moves backwards.
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from runtime.errors import HearthError, NotFoundError, StoreError, UsageError
from runtime.store import sql
from runtime.store.bulk import BulkWrites
from runtime.store.db import Database, open_connection
from runtime.store.memory_log import MemoryRecords
from runtime.store.models import (
    ROLES,
    Message,
    NewMessage,
    Role,
    Session,
    dump_metadata,
    format_timestamp,
    now_utc,
)
from runtime.store.reader import MESSAGES_HINT, message_missing, session_missing


class _Default(enum.Enum):
    ACTIVE_LEAF = "the session's active leaf"


ACTIVE_LEAF = _Default.ACTIVE_LEAF
"""Default `parent_id` for appends: continue the active branch (None means "a new root")."""


def _stamp(moment: datetime | None) -> str:
    return format_timestamp(moment if moment is not None else now_utc())


class TranscriptStore(BulkWrites, MemoryRecords):
    """One companion's transcript file. Open with `TranscriptStore.open(path)`; close it after.

    Bulk writes for imports (`append_tree`, `add_memories`) come from `bulk.BulkWrites`.
    What long-term memory reads and records comes from `memory_log.MemoryRecords`.
    """

    @classmethod
    def open(cls, path: Path) -> TranscriptStore:
        """Open the transcript at `path`, creating it (mode 0600) and migrating as needed."""
        return cls(Database(open_connection(path), path))

    @property
    def path(self) -> Path:
        """The database file."""
        return self._db.path

    def close(self) -> None:
        """Close the file; the store cannot be used afterwards."""
        self._db.close()

    def __enter__(self) -> TranscriptStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes so they commit together or not at all (nested calls join the outer one).

        Importers wrap a whole session (or file) in one: it is atomic and far faster than a
        commit per message.
        """
        return self._db.transaction()

    # --- sessions -------------------------------------------------------------------------

    def create_session(
        self,
        title: str | None = None,
        source: str = "hearth",
        source_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Session:
        """Add an empty session. (source, source_id) must be new when source_id is given."""
        stamp = _stamp(created_at)
        with self._db.writing():
            try:
                row = self._db.one(sql.INSERT_SESSION, (title, source, source_id, stamp, stamp))
            except sqlite3.IntegrityError as exc:
                existing = self.find_session(source, source_id) if source_id else None
                if existing is None:
                    raise
                raise StoreError(
                    f"session {source_id!r} from {source} is already stored as session "
                    f"{existing.id}",
                    hint="look it up with find_session instead of creating it again",
                ) from exc
        return sql.session_from_row(row)

    def rename_session(self, session_id: int, title: str | None) -> Session:
        """Set (or, with None, clear) the session's title."""
        with self._db.writing():
            row = self._db.one(sql.RENAME_SESSION, (title, _stamp(None), session_id))
        if row is None:
            raise session_missing(session_id)
        return sql.session_from_row(row)

    def delete_session(self, session_id: int) -> None:
        """Delete the session and all its messages."""
        with self._db.writing():
            if self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount == 0:
                raise session_missing(session_id)

    # --- adding messages ------------------------------------------------------------------

    def append(
        self,
        session_id: int,
        role: Role,
        text: str,
        *,
        parent_id: int | _Default | None = ACTIVE_LEAF,
        model: str | None = None,
        source_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        created_at: datetime | None = None,
        activate: bool = True,
        partial: bool = False,
    ) -> Message:
        """Add a message under `parent_id` (default: the active leaf; None: a new root).

        With `activate` it becomes the session's active leaf. `partial` marks a reply whose
        text is still arriving (see `set_text`). Costs one INSERT and one UPDATE (plus one
        SELECT when the parent is the default).
        """
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {sorted(ROLES)}")
        meta = {**(metadata or {}), "partial": True} if partial else dict(metadata or {})
        stamp = _stamp(created_at)
        with self._db.writing():
            parent = self._active_leaf(session_id) if parent_id is ACTIVE_LEAF else parent_id
            values = (session_id, parent, role, text, stamp, model, source_id, dump_metadata(meta))
            try:
                message_id = self._db.execute(sql.INSERT_MESSAGE, values).lastrowid
            except sqlite3.IntegrityError as exc:
                error = self._explain_insert_failure(session_id, parent, exc, source_id)
                if error is None:
                    raise
                raise error from exc
            assert message_id is not None
            self._touch(session_id, stamp, leaf_id=message_id if activate else None)
        return Message(
            message_id, session_id, parent, role, text, sql.parse(stamp), model, source_id, meta
        )

    def append_many(
        self,
        session_id: int,
        messages: Iterable[NewMessage],
        *,
        parent_id: int | _Default | None = ACTIVE_LEAF,
        activate: bool = True,
    ) -> list[int]:
        """Add a chain of messages, each the child of the one before; return their ids.

        The first goes under `parent_id` (default: the active leaf). For linear bulk imports:
        one multi-row INSERT and one session update, whatever the length.
        """
        with self._db.writing():
            parent = self._active_leaf(session_id) if parent_id is ACTIVE_LEAF else parent_id
            # Inside the write transaction nobody else can insert, so ids after the highest
            # ever used are ours to assign, which lets each row name its parent in advance.
            next_id = self._db.one(sql.LAST_MESSAGE_ID)[0] + 1
            rows = []
            for offset, new in enumerate(messages):
                if new.role not in ROLES:
                    raise ValueError(f"role {new.role!r} is not one of {sorted(ROLES)}")
                message_id = next_id + offset
                rows.append(
                    (
                        message_id, session_id, parent, new.role, new.text,
                        _stamp(new.created_at), new.model, new.source_id,
                        dump_metadata(new.metadata),
                    )
                )  # fmt: skip
                parent = message_id
            if not rows:
                return []
            try:
                self._db.conn.executemany(sql.INSERT_MESSAGE_WITH_ID, rows)
            except sqlite3.IntegrityError as exc:
                error = self._explain_insert_failure(session_id, rows[0][2], exc, None)
                if error is None:
                    raise
                raise error from exc
            latest = max(row[5] for row in rows)
            self._touch(session_id, latest, leaf_id=rows[-1][0] if activate else None)
        return [row[0] for row in rows]

    def regenerate(
        self,
        message_id: int,
        text: str,
        *,
        model: str | None = None,
        metadata: dict[str, Any] | None = None,
        partial: bool = False,
    ) -> Message:
        """A new reply beside assistant message `message_id` (same parent); it becomes active."""
        with self._db.writing():
            original = self._sibling_base(message_id, "assistant", "regenerated")
            return self.append(
                original.session_id, "assistant", text, parent_id=original.parent_id,
                model=model, metadata=metadata, partial=partial,
            )  # fmt: skip

    def edit(self, message_id: int, text: str) -> Message:
        """A new version of user message `message_id` beside it; it becomes the active leaf.

        The replies to the old version stay on their branch (reach them with `switch_to`).
        """
        with self._db.writing():
            original = self._sibling_base(message_id, "user", "edited")
            return self.append(original.session_id, "user", text, parent_id=original.parent_id)

    def set_text(self, message_id: int, text: str, *, partial: bool | None = None) -> None:
        """Replace a message's text, as a streamed reply grows.

        `partial=True` marks it unfinished (saved as {"partial": true} in its metadata, so an
        interrupted reply is recognisable), `False` clears the mark, None leaves it alone.
        Each call commits; callers streaming tokens should call it every few hundred ms.
        """
        with self._db.writing():
            row = self._db.one(sql.SET_TEXT, (text, partial, message_id))
            if row is None:
                raise message_missing(message_id)
            self._touch(row[0], _stamp(None))

    # --- the active branch ----------------------------------------------------------------

    def switch_to(self, message_id: int) -> Message:
        """Show the branch through `message_id`; return the new active leaf.

        From the message, follow the most recently created child at each step down to a
        leaf. (Not the child that was last active: that would need a stored choice per fork,
        and "newest" is what a user expects after regenerating.)
        """
        with self._db.writing():
            message = self.get_message(message_id)
            leaf = self._deepest_newest(message)
            self._touch(message.session_id, _stamp(None), leaf_id=leaf.id)
        return leaf

    # --- removing -------------------------------------------------------------------------

    def delete_branch(self, message_id: int) -> int:
        """Delete the message and everything below it; return how many messages went.

        If the active leaf was among them, the newest remaining sibling's branch becomes
        active, or else the parent.
        """
        with self._db.writing():
            message = self.get_message(message_id)
            session = self.get_session(message.session_id)
            leaf_inside = session.active_leaf_id is not None and bool(
                self._db.one(sql.IN_SUBTREE, (session.active_leaf_id, message.id))[0]
            )
            self._db.execute(sql.DELETE_SUBTREE, (message.id, session.id))
            # cursor.rowcount is -1 for a statement starting with WITH; changes() is exact.
            deleted = int(self._db.one("SELECT changes()")[0])
            if leaf_inside:
                row = self._db.one(sql.NEWEST_WITH_PARENT, (session.id, message.parent_id))
                if row is not None:
                    new_leaf: int | None = self._deepest_newest(sql.message_from_row(row)).id
                else:
                    new_leaf = message.parent_id
                self._db.execute(sql.SET_LEAF, (new_leaf, session.id))
            self._touch(session.id, _stamp(None))
        return deleted

    # --- helpers --------------------------------------------------------------------------

    def _active_leaf(self, session_id: int) -> int | None:
        row = self._db.one("SELECT active_leaf_id FROM sessions WHERE id = ?", (session_id,))
        if row is None:
            raise session_missing(session_id)
        return row[0]

    def _touch(self, session_id: int, stamp: str, *, leaf_id: int | None = None) -> None:
        if leaf_id is None:
            self._db.execute(sql.TOUCH_SESSION, (stamp, session_id))
        else:
            self._db.execute(sql.TOUCH_SESSION_AND_LEAF, (stamp, leaf_id, session_id))

    def _sibling_base(self, message_id: int, role: str, verb: str) -> Message:
        original = self.get_message(message_id)
        if original.role != role:
            raise UsageError(
                f"message {message_id} is a {original.role} message; only {role} messages "
                f"can be {verb}",
                hint=MESSAGES_HINT,
            )
        return original

    def _explain_insert_failure(
        self,
        session_id: int,
        parent_id: int | None,
        exc: sqlite3.IntegrityError,
        source_id: str | None,
    ) -> HearthError | None:
        """Turn SQLite's terse constraint error into one that names the culprit (None: a bug)."""
        if self._db.one("SELECT 1 FROM sessions WHERE id = ?", (session_id,)) is None:
            return session_missing(session_id)
        parent_row = self._db.one(
            "SELECT 1 FROM messages WHERE id = ? AND session_id = ?", (parent_id, session_id)
        )
        if parent_id is not None and parent_row is None:
            return NotFoundError(
                f"message {parent_id} not found in session {session_id}", hint=MESSAGES_HINT
            )
        if "UNIQUE" in str(exc):
            which = f"source id {source_id!r}" if source_id is not None else "a source id"
            return StoreError(
                f"a message with {which} is already stored in session {session_id}",
                hint="look it up with find_message instead of adding it again",
            )
        return None
