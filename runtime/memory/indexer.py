"""Incremental indexing: bring the memory directory up to date with the transcript.

Message and memory ids only grow, so "new" is "above the last id indexed" (kept in
memory.sqlite's meta). A new message re-indexes the turn it belongs to (a reply completes its
user message's turn; a regenerated reply replaces the old one in it) and the turns beside it,
which show it as their neighbour (see `turns`). A turn whose reply is still being written is
indexed as it is and looked at again next time. Stored memories that were forgotten are
removed, and so are the turns of deleted sessions; a forgotten turn also leaves the turns
beside it, and a turn showing a message deleted since is made again (`refresh`).

Writes go vectors first, then rows in one SQLite transaction with the new high-water mark: a
crash in between leaves vectors without rows, which searches ignore and the next run replaces.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from runtime.memory.embedder import Embedder
from runtime.memory.items import ItemStore, vector_ids_of
from runtime.memory.turns import Prepared, Speakers, memory_item, turns_for
from runtime.memory.vectors import VectorIndex
from runtime.store import Message, TranscriptStore
from runtime.store.memory_log import FORGOTTEN_KIND

log = logging.getLogger(__name__)

BATCH_MESSAGES = 5000
EMBED_CHUNK = 256
"""Items embedded and written at a time: the progress bar moves, a crash loses little."""
Progress = Callable[[int, int], None]
"""on_progress(messages done, messages to do)."""


@dataclass(frozen=True)
class IndexReport:
    """What one round of indexing did."""

    messages: int
    """New messages looked at."""
    items: int
    """Items (turns, memories) embedded and written."""
    removed: int
    seconds: float


@dataclass
class Indexer:
    """Writes one companion's transcript into its memory directory."""

    store: TranscriptStore
    items: ItemStore
    vectors: VectorIndex
    embedder: Embedder
    speakers: Speakers

    def pending(self) -> int:
        """How many messages and stored memories are not indexed yet."""
        last_message, last_memory = self.store.last_ids()
        return max(0, last_message - self.items.get_meta("messages_done", 0)) + max(
            0, last_memory - self.items.get_meta("memories_done", 0)
        )

    def index_new(
        self, on_progress: Progress | None = None, *, limit: int | None = None
    ) -> IndexReport:
        """Index everything new since the last call; cheap when nothing is. With `limit`, stop
        after about that many messages (the rest is still `pending` for the next call)."""
        started = time.perf_counter()
        total = self.pending()
        forgotten = self.store.forgotten_items()
        removed = self._prune_sessions()
        batch_size = min(BATCH_MESSAGES, limit) if limit else BATCH_MESSAGES
        done = written = 0
        while limit is None or done < limit:
            mark = self.items.get_meta("messages_done", 0)
            batch = self.store.messages_after(mark, batch_size)
            deferred = self.items.get_meta("deferred", [])
            if not batch and not deferred:
                break
            prepared = self._turns([m.id for m in batch] + deferred, batch, forgotten)
            partial = sorted({m for p in prepared if p.partial for m in p.item.message_ids})
            written += self.write(prepared)
            with self.items.transaction():
                self.items.set_meta("messages_done", batch[-1].id if batch else mark)
                self.items.set_meta("deferred", partial)
            done += len(batch)
            if on_progress is not None:
                on_progress(done, total)
            if not batch:
                break
        written += self._index_memories()
        if on_progress is not None and done >= total:
            on_progress(total, total)
        seconds = time.perf_counter() - started
        if written:
            log.info("memory: %d items indexed in %.1f s", written, seconds)
        return IndexReport(done, written, removed, seconds)

    def _turns(
        self,
        changed: list[int],
        batch: Sequence[Message],
        forgotten: set[str],
        *,
        with_neighbours: bool = True,
    ) -> list[Prepared]:
        """The turns containing `changed` messages (and those beside them), each session's
        read once."""
        by_session: dict[int, list[int]] = defaultdict(list)
        known = {m.id: m.session_id for m in batch}
        for message_id in changed:
            session_id = known.get(message_id)
            if session_id is None:  # deferred from an earlier round (maybe deleted since)
                if not self.store.existing_message_ids([message_id]):
                    continue
                session_id = self.store.get_message(message_id).session_id
            by_session[session_id].append(message_id)
        prepared: list[Prepared] = []
        for session_id, ids in by_session.items():
            prepared.extend(
                turns_for(
                    self.store.messages(session_id), ids, self.speakers, forgotten,
                    with_neighbours=with_neighbours,
                )
            )  # fmt: skip
        return prepared

    def refresh(self, heads: Sequence[int]) -> None:
        """Make the turns starting at `heads` again from the transcript (a message they show
        was deleted), or remove them when their first message is gone."""
        existing = self.store.existing_message_ids(heads)
        self.remove([f"turn:{head}" for head in heads if head not in existing])
        forgotten = self.store.forgotten_items()
        self.write(self._turns(sorted(existing), [], forgotten, with_neighbours=False))

    def forget_turn(self, item_id: str, head: int) -> None:
        """Remove a forgotten turn (already recorded as forgotten in the transcript) and make
        the turns beside it again without it."""
        self.remove([item_id])
        if self.store.existing_message_ids([head]):
            self.write(self._turns([head], [], self.store.forgotten_items()))

    def _index_memories(self) -> int:
        mark = self.items.get_meta("memories_done", 0)
        memories = self.store.memories_after(mark)
        if not memories:
            return 0
        self.remove([f"memory:{m.id}" for m in memories if m.kind == FORGOTTEN_KIND])
        written = self.write(
            [memory_item(m) for m in memories if m.kind != FORGOTTEN_KIND and m.text.strip()]
        )
        with self.items.transaction():
            self.items.set_meta("memories_done", memories[-1].id)
        return written

    def reindex_memory(self, memory_id: int) -> None:
        """Index a stored memory again after its text changed (or remove it if forgotten)."""
        found = self.store.memories_after(memory_id - 1)
        memory = found[0] if found and found[0].id == memory_id else None
        if memory is None or memory.kind == FORGOTTEN_KIND or not memory.text.strip():
            self.remove([f"memory:{memory_id}"])
        else:
            self.write([memory_item(memory)])

    def write(self, prepared: Sequence[Prepared]) -> int:
        """Embed and store items: vectors first, then rows (the authority; see `items`)."""
        for start in range(0, len(prepared), EMBED_CHUNK):
            chunk = prepared[start : start + EMBED_CHUNK]
            texts = [text for p in chunk for text in p.embed_texts]
            ids = [v for p in chunk for v in vector_ids_of(p.item.id, len(p.embed_texts))]
            times = [p.item.timestamp for p in chunk for _ in p.embed_texts]
            kinds = [p.item.kind for p in chunk for _ in p.embed_texts]
            with self.items.transaction():
                stale = self.items.delete([p.item.id for p in chunk])
            # A turn that had more vectors before (a longer reply chain) loses the extra ones.
            self.vectors.delete(sorted(set(stale) - set(ids)))
            self.vectors.upsert(ids, self.embedder.embed(texts), times, kinds)
            with self.items.transaction():
                self.items.upsert((p.item, p.keyword_text, len(p.embed_texts)) for p in chunk)
        return len(prepared)

    def remove(self, item_ids: Sequence[str]) -> None:
        """Remove items and their vectors."""
        if not item_ids:
            return
        with self.items.transaction():
            vector_ids = self.items.delete(item_ids)
        self.vectors.delete(vector_ids)

    def _prune_sessions(self) -> int:
        """Remove the turns of sessions deleted from the transcript."""
        stale = self.items.items_of_sessions_not_in(self.store.session_ids())
        self.remove(stale)
        return len(stale)
