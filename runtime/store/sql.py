"""The store's SQL statements and the conversion of rows to dataclasses, kept in one place.

Tree walks are recursive CTEs so that a path of any length costs one statement. Siblings are
the messages with the same (session_id, parent_id); `parent_id IS ?` matches roots too (NULL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtime.store.models import (
    Message,
    Session,
    SessionSummary,
    load_metadata,
    parse_timestamp,
)

parse = parse_timestamp

SESSION_COLUMNS = "id, title, source, source_id, created_at, updated_at, active_leaf_id"
MESSAGE_COLUMNS = "id, session_id, parent_id, role, text, created_at, model, source_id, metadata"
_M_COLUMNS = ", ".join(f"m.{name.strip()}" for name in MESSAGE_COLUMNS.split(","))


def session_from_row(row: Sequence[Any]) -> Session:
    """A row starting with SESSION_COLUMNS as a Session."""
    return Session(row[0], row[1], row[2], row[3], parse(row[4]), parse(row[5]), row[6])


def summary_from_row(row: Sequence[Any]) -> SessionSummary:
    """SESSION_COLUMNS plus a message count as a SessionSummary."""
    return SessionSummary(
        row[0], row[1], row[2], row[3], parse(row[4]), parse(row[5]), row[6], row[7]
    )


def message_from_row(row: Sequence[Any]) -> Message:
    """A row starting with MESSAGE_COLUMNS as a Message."""
    return Message(
        row[0], row[1], row[2], row[3], row[4], parse(row[5]), row[6], row[7], load_metadata(row[8])
    )


# --- sessions ---------------------------------------------------------------------------------

INSERT_SESSION = f"""
INSERT INTO sessions (title, source, source_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
RETURNING {SESSION_COLUMNS}
"""

RENAME_SESSION = f"""
UPDATE sessions SET title = ?, updated_at = max(updated_at, ?) WHERE id = ?
RETURNING {SESSION_COLUMNS}
"""

LIST_SESSIONS = f"""
SELECT {SESSION_COLUMNS}, (SELECT count(*) FROM messages AS m WHERE m.session_id = s.id)
FROM sessions AS s ORDER BY s.updated_at DESC, s.id DESC
"""

# max(): updated_at never moves backwards, e.g. when an import appends old messages.
TOUCH_SESSION = "UPDATE sessions SET updated_at = max(updated_at, ?) WHERE id = ?"
TOUCH_SESSION_AND_LEAF = (
    "UPDATE sessions SET updated_at = max(updated_at, ?), active_leaf_id = ? WHERE id = ?"
)
SET_LEAF = "UPDATE sessions SET active_leaf_id = ? WHERE id = ?"

# --- messages ---------------------------------------------------------------------------------

INSERT_MESSAGE = """
INSERT INTO messages (session_id, parent_id, role, text, created_at, model, source_id, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""

INSERT_MESSAGE_WITH_ID = """
INSERT INTO messages
    (id, session_id, parent_id, role, text, created_at, model, source_id, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

# Indexes a bulk import into a new store does not read: `BulkWrites.fast_fill` drops them and
# `make_durable` builds them again. Looking up a session's messages by source id goes through
# the (session_id, id) key instead, the parent foreign key too.
DEFERRED_INDEXES = ("messages_by_parent", "messages_source_key")

# The highest id ever handed out (AUTOINCREMENT keeps it in sqlite_sequence, even after deletes).
LAST_MESSAGE_ID = """
SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),
           coalesce((SELECT max(id) FROM messages), 0))
"""

# ?2 NULL: keep the partial mark; true: set it; false: remove it.
SET_TEXT = """
UPDATE messages SET
    text = ?1,
    metadata = CASE
        WHEN ?2 IS NULL THEN metadata
        WHEN ?2 THEN json_set(metadata, '$.partial', json('true'))
        ELSE json_remove(metadata, '$.partial')
    END
WHERE id = ?3
RETURNING session_id
"""

WITH_PARENT = f"""
SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ? AND parent_id IS ? ORDER BY id
"""

NEWEST_WITH_PARENT = f"""
SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ? AND parent_id IS ?
ORDER BY id DESC LIMIT 1
"""

ALTERNATIVES_COUNT = """
SELECT (SELECT count(*) FROM messages AS s
        WHERE s.session_id = m.session_id AND s.parent_id IS m.parent_id)
FROM messages AS m WHERE m.id = ?
"""

# --- paths ------------------------------------------------------------------------------------

# From the session's active leaf up to the root; depth 0 is the leaf.
_ACTIVE_PATH_CTE = """
WITH RECURSIVE up(id, depth) AS (
    SELECT active_leaf_id, 0 FROM sessions WHERE id = ?1 AND active_leaf_id IS NOT NULL
    UNION ALL
    SELECT m.parent_id, up.depth + 1 FROM up JOIN messages AS m ON m.id = up.id
    WHERE m.parent_id IS NOT NULL
)
"""

ACTIVE_PATH = f"""{_ACTIVE_PATH_CTE}
SELECT {_M_COLUMNS} FROM up JOIN messages AS m ON m.id = up.id ORDER BY up.depth DESC
"""

# Position and count among siblings come from the (session_id, parent_id) index, per step.
ACTIVE_PATH_WITH_ALTERNATIVES = f"""{_ACTIVE_PATH_CTE}
SELECT {_M_COLUMNS},
    (SELECT count(*) FROM messages AS s
     WHERE s.session_id = m.session_id AND s.parent_id IS m.parent_id AND s.id <= m.id),
    (SELECT count(*) FROM messages AS s
     WHERE s.session_id = m.session_id AND s.parent_id IS m.parent_id)
FROM up JOIN messages AS m ON m.id = up.id ORDER BY up.depth DESC
"""

# From message ?1 (of session ?2) down through the newest child at each step; the last row
# reached is the leaf. The step after a leaf yields NULL, which ends the recursion.
DEEPEST_NEWEST = f"""
WITH RECURSIVE down(id, depth) AS (
    SELECT ?1, 0
    UNION ALL
    SELECT (SELECT max(c.id) FROM messages AS c WHERE c.session_id = ?2 AND c.parent_id = down.id),
           down.depth + 1
    FROM down WHERE down.id IS NOT NULL
)
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE id = (SELECT id FROM down WHERE id IS NOT NULL ORDER BY depth DESC LIMIT 1)
"""

# 1 when message ?2 is the leaf ?1 or one of its ancestors (walks up: at most the path length).
IN_SUBTREE = """
WITH RECURSIVE up(id) AS (
    SELECT ?1
    UNION ALL
    SELECT m.parent_id FROM up JOIN messages AS m ON m.id = up.id WHERE m.parent_id IS NOT NULL
)
SELECT count(*) FROM up WHERE id = ?2
"""

# Message ?1 of session ?2 and all its descendants, deleted in one statement, so the parent
# foreign key is checked once at the end (a row-by-row cascade recurses once per level).
DELETE_SUBTREE = """
WITH RECURSIVE subtree(id) AS (
    SELECT ?1
    UNION ALL
    SELECT m.id FROM subtree JOIN messages AS m ON m.session_id = ?2 AND m.parent_id = subtree.id
)
DELETE FROM messages WHERE id IN (SELECT id FROM subtree)
"""
