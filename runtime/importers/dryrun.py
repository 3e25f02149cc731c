"""The `--dry-run` backend: the existing transcript read-only, plus what the run would add.

It answers the writer's questions exactly as the store would, so a dry run reports the numbers
a real import would, and it writes nothing: the transcript is opened with `immutable=1` (or
read-only when another process has it open), which creates no -wal/-shm files either.

What the run "adds" is remembered compactly (an 8-byte hash per message id, sorted), so a dry
run of a big export needs no more memory than the real import.
"""

from __future__ import annotations

import bisect
import contextlib
import sqlite3
from array import array
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from runtime.importers.rows import PreparedSession
from runtime.store import NewMemory, TreeRow


class _Ids(Collection[str]):
    """Message ids: those stored (strings) and those the run would add (sorted hashes)."""

    def __init__(self, stored: set[str], added: array) -> None:
        self._stored = stored
        self._added = added

    def __contains__(self, key: object) -> bool:
        if key in self._stored:
            return True
        wanted = hash(key)
        at = bisect.bisect_left(self._added, wanted)
        return at < len(self._added) and self._added[at] == wanted

    def __len__(self) -> int:
        return len(self._stored) + len(self._added)

    def __iter__(self) -> Iterator[str]:  # only the stored ones can be listed
        return iter(self._stored)


class DryRunBackend:
    """Answers from an existing transcript opened read-only, plus what this run would add."""

    def __init__(self, transcript: Path | None) -> None:
        """`transcript`: the companion's file when it exists (never created or migrated)."""
        self._conn: sqlite3.Connection | None = None
        if transcript is not None and transcript.exists():
            # With no -wal file (nobody has the store open) everything is in the main file and
            # `immutable` reads it without creating -wal/-shm files; otherwise they exist
            # already and a read-only connection adds nothing.
            wal = Path(f"{transcript}-wal").exists()
            mode = "mode=ro" if wal else "immutable=1"
            self._conn = sqlite3.connect(f"{transcript.resolve().as_uri()}?{mode}", uri=True)
        self._sessions: dict[tuple[str, str], int] = {}
        self._added: dict[int, array] = {}
        self._memories: set[tuple[str, str | None]] = set()
        self._next_id = -1  # sessions that would be created get negative ids

    def atomic(self) -> AbstractContextManager[None]:
        """Nothing to undo: a session is recorded only after its last lookup."""
        return contextlib.nullcontext()

    def close(self) -> None:
        """Close the read-only connection."""
        if self._conn is not None:
            self._conn.close()

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        if self._conn is None:
            return []
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # an older schema without the table: nothing there
            return []

    def find_session(self, source: str, source_id: str) -> int | None:
        """A stored or would-be-created session's id."""
        if (source, source_id) in self._sessions:
            return self._sessions[(source, source_id)]
        rows = self._query(
            "SELECT id FROM sessions WHERE source = ? AND source_id = ?", (source, source_id)
        )
        return int(rows[0][0]) if rows else None  # type: ignore[call-overload]

    def known_ids(self, session_id: int) -> Collection[str]:
        """Stored plus would-be-added message source ids."""
        stored = self._query(
            "SELECT source_id FROM messages WHERE session_id = ? AND source_id IS NOT NULL",
            (session_id,),
        )
        return _Ids({str(row[0]) for row in stored}, self._added.get(session_id, array("q")))

    def create_session(self, session: PreparedSession) -> int:
        """Remember the session as created."""
        self._next_id -= 1
        self._sessions[(session.source, session.source_id)] = self._next_id
        return self._next_id

    def append(self, session_id: int, new: list[TreeRow], leaf: str | None) -> None:
        """Remember the messages as added."""
        hashes = array(
            "q", sorted([*self._added.get(session_id, ()), *map(hash, (r[0] for r in new))])
        )
        self._added[session_id] = hashes

    def add_memory(self, memory: NewMemory) -> bool:
        """True when neither stored nor already counted in this run."""
        key = (memory.source, memory.source_id)
        if key in self._memories:
            return False
        self._memories.add(key)
        if memory.source_id is None:
            return True
        rows = self._query("SELECT 1 FROM memories WHERE source = ? AND source_id = ?", key)
        return not rows
