"""Episodes: stretches of a conversation searched by keyword as one document.

A question names its topic ("What is the name of Daniel's band?") while the turn that answers it
often does not ("Yep, The Late Checkouts are still going strong-ish. We've got a gig next
Friday"); the talk around it does (band, gig, practice). So each session's turns are also
grouped, EPISODE_TURNS at a time in the order they were written, into episodes whose keyword
terms are those of all their turns, and a query's best-matching episodes lift the turns in them
(see `rank`). Episodes come from the items' own keyword terms: kept up to date whenever items
are written or removed, rebuilt from them in an existing memory file, never embedded.

Measured on bench/recall.py, top 3 episodes lifting their turns ×1.6/1.4/1.2: hybrid
recall@10 on the hand-written dialogs 0.777 → 0.788 (dialogs 1-3) and 0.770 → 0.786 (4-6), on
the synthetic multilingual set 0.689 either way. A prototype outside the index chose the size:
16 turns as good as whole sessions on the dialogs (whose sessions are shorter) and better on the
synthetic set (0.696 against 0.685), 8 turns worse on both dialog halves (0.786, 0.783 against
0.792, 0.790 there).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from runtime.memory.fts import best_matches, rows_in

EPISODE_TURNS = 16
"""Turns per episode: a sitting's worth of talk (a session of the dialogs is 8-14 turns)."""

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS episodes (
        rowid INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL,
        segment INTEGER NOT NULL,
        items TEXT NOT NULL,
        UNIQUE (session_id, segment)
    )""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS episode_terms USING fts5(body,"
    " tokenize='porter unicode61 remove_diacritics 2')",
)


def _head(item_id: str) -> int:
    """The first message id of a turn item ("turn:42" → 42): turns are ordered by it."""
    return int(item_id.partition(":")[2])


class Episodes:
    """The episodes of one memory file, on its SQLite connection (callers hold the
    transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._touched: dict[int, int] = {}
        """session id → first head id changed since the last `refresh`."""

    def missing(self) -> bool:
        """True for a new memory file, or one from before episodes."""
        found = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'episode_terms'"
        ).fetchone()
        return found is None

    def create(self) -> None:
        """Create the tables (then, in a file that has items, `rebuild_all`)."""
        for statement in SCHEMA:
            self.conn.execute(statement)

    def touch(self, session_id: int | None, item_id: str) -> None:
        """Note that a turn of `session_id` was written or removed."""
        if session_id is None or not item_id.startswith("turn:"):
            return
        head = _head(item_id)
        self._touched[session_id] = min(head, self._touched.get(session_id, head))

    def rebuild_all(self) -> None:
        """Make every session's episodes again from its turns."""
        rows = self.conn.execute(
            "SELECT DISTINCT session_id FROM items WHERE session_id IS NOT NULL"
        ).fetchall()
        for (session_id,) in rows:
            self._touched[session_id] = 0
        self.refresh()

    def refresh(self) -> None:
        """Rewrite the episodes of touched sessions from the first one that changed: turns are
        ordered by their first message id, so an added turn only changes the last episodes."""
        touched, self._touched = self._touched, {}
        for session_id, first in touched.items():
            self._refresh_session(session_id, first)

    def _refresh_session(self, session_id: int, first_head: int) -> None:
        rows = self.conn.execute(
            "SELECT id, rowid FROM items WHERE session_id = ? AND id LIKE 'turn:%'", (session_id,)
        ).fetchall()
        turns = sorted(rows, key=lambda row: _head(row[0]))
        changed_at = next((i for i, row in enumerate(turns) if _head(row[0]) >= first_head), None)
        start = (len(turns) if changed_at is None else changed_at) // EPISODE_TURNS
        stale = self.conn.execute(
            "SELECT rowid FROM episodes WHERE session_id = ? AND segment >= ?",
            (session_id, start),
        ).fetchall()
        for (rowid,) in stale:
            self.conn.execute("DELETE FROM episode_terms WHERE rowid = ?", (rowid,))
            self.conn.execute("DELETE FROM episodes WHERE rowid = ?", (rowid,))
        # Only the turns of the episodes rewritten are read: a long session gains a turn at a
        # time, and its earlier episodes stay as they are.
        rewritten = turns[start * EPISODE_TURNS :]
        bodies = dict(
            rows_in(
                self.conn,
                "SELECT rowid, body FROM terms WHERE rowid IN ({marks})",
                [rowid for _, rowid in rewritten],
            )
        )
        for segment in range(start, -(-len(turns) // EPISODE_TURNS)):
            members = turns[segment * EPISODE_TURNS : (segment + 1) * EPISODE_TURNS]
            cursor = self.conn.execute(
                "INSERT INTO episodes (session_id, segment, items) VALUES (?, ?, ?)",
                (session_id, segment, json.dumps([item_id for item_id, _ in members])),
            )
            body = " ".join(bodies.get(rowid, "") for _, rowid in members)
            self.conn.execute(
                "INSERT INTO episode_terms (rowid, body) VALUES (?, ?)", (cursor.lastrowid, body)
            )

    def best(self, terms: Sequence[str], limit: int) -> list[list[str]]:
        """The item ids of the `limit` episodes that best match the terms (BM25), best first."""
        rows = best_matches(self.conn, "episode_terms", "episodes", "episodes.items", terms, limit)
        return [json.loads(row[0]) for row in rows]
