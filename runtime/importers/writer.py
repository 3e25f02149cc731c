"""Writing imported sessions and memories into a transcript, adding only what is new.

A session is recognised by (source, source_id), a message by its source id within the session,
a memory by (source, source_id). So re-importing an export adds nothing, a conversation that
appears twice (in two shards) is stored once, and a conversation continued since the last
export gets only its new messages, under the parents it already has.

The same logic runs against two backends: the real transcript store, and for `--dry-run` a
read-only view of the existing transcript that remembers what the run would add
(`dryrun.DryRunBackend`), so a dry run reports exactly the numbers a real run would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from contextlib import AbstractContextManager
from typing import Protocol

from runtime.importers.base import ImportedMemory, ImportedSession, ImportWarning
from runtime.importers.rows import (
    PackedSession,
    PreparedSession,
    new_rows,
    prepare,
    scrub,
    scrubbed,
)
from runtime.store import NewMemory, TranscriptStore, TreeRow


class Backend(Protocol):
    """Where the writer looks things up and puts them."""

    def atomic(self) -> AbstractContextManager[None]: ...
    def find_session(self, source: str, source_id: str) -> int | None: ...
    def known_ids(self, session_id: int) -> Collection[str]: ...
    def create_session(self, session: PreparedSession) -> int: ...
    def append(self, session_id: int, new: list[TreeRow], leaf: str | None) -> None: ...
    def add_memory(self, memory: NewMemory) -> bool: ...


class StoreBackend:
    """The real thing: a transcript store (the caller holds the transaction)."""

    def __init__(self, store: TranscriptStore) -> None:
        """Write into `store`."""
        self.store = store

    def atomic(self) -> AbstractContextManager[None]:
        """A savepoint: one session's writes are undone together if one of them fails."""
        return self.store.transaction()

    def find_session(self, source: str, source_id: str) -> int | None:
        """The stored session's id, if any."""
        found = self.store.find_session(source, source_id)
        return None if found is None else found.id

    def known_ids(self, session_id: int) -> Collection[str]:
        """Source ids of the session's stored messages."""
        return self.store.message_source_ids(session_id).keys()

    def create_session(self, session: PreparedSession) -> int:
        """A new, empty session for `session`."""
        return self.store.create_session(
            session.title, session.source, session.source_id, session.created_at
        ).id

    def append(self, session_id: int, new: list[TreeRow], leaf: str | None) -> None:
        """Insert the new messages (parents by source id); `leaf` becomes active."""
        self.store.append_rows(session_id, new, active_leaf_source_id=leaf)

    def add_memory(self, memory: NewMemory) -> bool:
        """Store a memory; False when it was there already."""
        return self.store.add_memories([memory]) == 1


class ImportWriter:
    """Feeds importer items to a backend and counts what was added or skipped."""

    def __init__(self, backend: Backend, source: str) -> None:
        """`source`: the importer's name, stored with every memory."""
        self.backend = backend
        self.source = source
        self.sessions_added = 0
        self.sessions_updated = 0
        self.sessions_skipped_duplicate = 0
        self.messages_added = 0
        self.memories_added = 0
        self.warnings: list[ImportWarning] = []

    def session(self, item: ImportedSession | PackedSession | PreparedSession) -> None:
        """Add the session, or the messages of it that are new, or count it as a duplicate."""
        session = prepare(item)
        try:
            with self.backend.atomic():
                outcome = self._write(session)
        except UnicodeEncodeError:  # a lone surrogate somewhere: repair the text, once
            with self.backend.atomic():
                outcome = self._write(scrubbed(session))
        added, updated, skipped, messages = outcome
        self.sessions_added += added
        self.sessions_updated += updated
        self.sessions_skipped_duplicate += skipped
        self.messages_added += messages

    def _write(self, session: PreparedSession) -> tuple[int, int, int, int]:
        """(sessions added, updated, skipped as duplicates, messages added)."""
        existing = self.backend.find_session(session.source, session.source_id)
        known: Collection[str] = () if existing is None else self.backend.known_ids(existing)
        new = new_rows(session, known)
        if not new:
            return 0, 0, int(existing is not None), 0
        if existing is None:
            created = self.backend.create_session(session)
            self.backend.append(created, new, session.active_leaf_source_id)
            return 1, 0, 0, len(new)
        self.backend.append(existing, new, session.active_leaf_source_id)
        return 0, 1, 0, len(new)

    def memory(self, memory: ImportedMemory) -> None:
        """Keep a memory unless the same one is stored (same source id, else the same text)."""
        text = memory.text.strip()
        if not text:
            return
        source_id = memory.source_id
        if source_id is None:
            digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]
            source_id = f"text-{digest}"
        stored = NewMemory(memory.kind, text, self.source, source_id, memory.created_at)
        try:
            added = self.backend.add_memory(stored)
        except UnicodeEncodeError:  # a single INSERT: nothing was written
            clean = NewMemory(memory.kind, scrub(text), self.source, scrub(source_id),
                              memory.created_at)  # fmt: skip
            added = self.backend.add_memory(clean)
        self.memories_added += added
