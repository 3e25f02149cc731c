"""Reading a transcript: sessions, messages, the active branch and its alternatives.

`TranscriptStore` adds the writes on top of this class; the split only keeps each file short.
"Creation order" of siblings is id order: ids only grow (AUTOINCREMENT), so the latest message
has the largest id even when an import gave it an older timestamp.
"""

from __future__ import annotations

from runtime.errors import NotFoundError
from runtime.store import sql
from runtime.store.db import Database
from runtime.store.models import Message, PathStep, Session, SessionSummary

SESSIONS_HINT = "list sessions with `hearth sessions list`"
MESSAGES_HINT = "see a session's messages with `hearth sessions show <session id>`"


def session_missing(session_id: int) -> NotFoundError:
    """The error for an unknown session id."""
    return NotFoundError(f"session {session_id} not found", hint=SESSIONS_HINT)


def message_missing(message_id: int) -> NotFoundError:
    """The error for an unknown message id."""
    return NotFoundError(f"message {message_id} not found", hint=MESSAGES_HINT)


class StoreReader:
    """The read-only half of the store. Unknown ids raise NotFoundError."""

    def __init__(self, db: Database) -> None:
        """Wrap an open database; use `TranscriptStore.open` instead."""
        self._db = db

    # --- sessions -------------------------------------------------------------------------

    def get_session(self, session_id: int) -> Session:
        """The session with this id."""
        row = self._db.one(
            f"SELECT {sql.SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
        )
        if row is None:
            raise session_missing(session_id)
        return sql.session_from_row(row)

    def find_session(self, source: str, source_id: str) -> Session | None:
        """The session imported from `source` with the export's id `source_id`, if stored."""
        row = self._db.one(
            f"SELECT {sql.SESSION_COLUMNS} FROM sessions WHERE source = ? AND source_id = ?",
            (source, source_id),
        )
        return None if row is None else sql.session_from_row(row)

    def list_sessions(self) -> list[SessionSummary]:
        """Every session, most recently updated first, with its message count (all branches)."""
        return [sql.summary_from_row(row) for row in self._db.all(sql.LIST_SESSIONS)]

    # --- the active branch ----------------------------------------------------------------

    def active_path(self, session_id: int) -> list[Message]:
        """The active branch, root first, leaf last; [] for an empty session."""
        rows = self._db.all(sql.ACTIVE_PATH, (session_id,))
        if not rows:
            self.get_session(session_id)  # NotFoundError for an unknown session
        return [sql.message_from_row(row) for row in rows]

    def active_path_with_alternatives(self, session_id: int) -> list[PathStep]:
        """The active branch with each message's place among its siblings ("2 of 3").

        One query, however long the path.
        """
        rows = self._db.all(sql.ACTIVE_PATH_WITH_ALTERNATIVES, (session_id,))
        if not rows:
            self.get_session(session_id)
        return [PathStep(sql.message_from_row(row), row[-2], row[-1]) for row in rows]

    # --- messages -------------------------------------------------------------------------

    def get_message(self, message_id: int) -> Message:
        """The message with this id."""
        row = self._db.one(
            f"SELECT {sql.MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
        )
        if row is None:
            raise message_missing(message_id)
        return sql.message_from_row(row)

    def find_message(self, session_id: int, source_id: str) -> Message | None:
        """The session's message imported with the export's id `source_id`, if stored."""
        row = self._db.one(
            f"SELECT {sql.MESSAGE_COLUMNS} FROM messages WHERE session_id = ? AND source_id = ?",
            (session_id, source_id),
        )
        return None if row is None else sql.message_from_row(row)

    def messages(self, session_id: int) -> list[Message]:
        """Every message of the session, all branches, in creation order."""
        rows = self._db.all(
            f"SELECT {sql.MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
        if not rows:
            self.get_session(session_id)
        return [sql.message_from_row(row) for row in rows]

    def speaker_names(self, after_id: int = 0) -> tuple[int, list[tuple[str, str, int]]]:
        """The names that messages after `after_id` carry (an import's `name`: a SillyTavern
        persona, a character), as (role, name, how many), and the last message id counted;
        `after_id` is that id from an earlier call, so callers can keep counts up to date."""
        last = self._db.one("SELECT coalesce(max(id), 0) FROM messages")[0]
        if last <= after_id:  # nothing new: the common case, once per search
            return last, []
        rows = self._db.all(
            "SELECT role, json_extract(metadata, '$.name') AS name, count(*) FROM messages"
            " WHERE id > ? AND id <= ? AND name IS NOT NULL GROUP BY role, name",
            (after_id, last),
        )
        return last, [(role, name, count) for role, name, count in rows if isinstance(name, str)]

    def children(self, message_id: int) -> list[Message]:
        """The replies to `message_id`, in creation order."""
        message = self.get_message(message_id)
        return self._with_parent(message.session_id, message.id)

    def siblings(self, message_id: int) -> list[Message]:
        """The messages sharing `message_id`'s parent (itself included), in creation order."""
        message = self.get_message(message_id)
        return self._with_parent(message.session_id, message.parent_id)

    def alternatives_count(self, message_id: int) -> int:
        """How many messages share this message's place (itself included; 1: no branch)."""
        row = self._db.one(sql.ALTERNATIVES_COUNT, (message_id,))
        if row is None:
            raise message_missing(message_id)
        return int(row[0])

    # --- helpers for the writes -----------------------------------------------------------

    def _with_parent(self, session_id: int, parent_id: int | None) -> list[Message]:
        rows = self._db.all(sql.WITH_PARENT, (session_id, parent_id))
        return [sql.message_from_row(row) for row in rows]

    def _deepest_newest(self, message: Message) -> Message:
        """The leaf reached from `message` by taking the newest child at every step."""
        row = self._db.one(sql.DEEPEST_NEWEST, (message.id, message.session_id))
        return sql.message_from_row(row)
