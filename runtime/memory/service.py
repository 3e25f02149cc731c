"""A companion's long-term memory: open it, keep it up to date, search it, forget, rebuild.

    memory = open_memory(entry)
    memory.index_new()                     # after an import, after each live turn
    hits = memory.search("what is my cat called?", k=5)
    retriever = memory.retriever()         # a runtime.retrieval.Retriever for prompt assembly
    memory.close()

The memory directory (`companions/<slug>/memory/`, see `directory`) holds memory.sqlite (items,
keyword index, state; see `items`) and chroma/ (vectors; see `vectors`). It is derived from the
transcript: indexing is incremental (see `indexer`) and `rebuild` makes it again from nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from runtime.companions import CompanionEntry
from runtime.errors import NotFoundError, UsageError
from runtime.memory import lock
from runtime.memory.directory import open_directory, remove_directory, size
from runtime.memory.embedder import Embedder, load_embedder, resolve_model
from runtime.memory.indexer import Indexer, IndexReport, Progress
from runtime.memory.items import Item
from runtime.memory.language import LanguageCheck, language_mix
from runtime.memory.rank import Hit, Ranker, RankSettings
from runtime.memory.speaker_names import KnownSpeakers
from runtime.memory.turns import Speakers
from runtime.store import NewMemory, TranscriptStore

USER_NAME = "User"

__all__ = ["CompanionMemory", "IndexReport", "index_companion", "open_memory", "rebuild_memory"]


def open_memory(
    entry: CompanionEntry,
    *,
    store: TranscriptStore | None = None,
    model_dirs: Sequence[Path] = (),
    settings: RankSettings | None = None,
    user_name: str = USER_NAME,
    clock: Callable[[], datetime] | None = None,
) -> CompanionMemory:
    """Open the companion's memory (creating it when new).

    `store`: the companion's open transcript, shared (and left open on close); by default the
    transcript is opened here. `model_dirs`: extra folders to find a named embedding model in
    (the data home's models/ folder is always searched). `user_name`: the user's speaker name
    where a message has none. `clock` gives "now" for time-aware retrieval (default: the local
    time). Raises EmbeddingModelError, MemoryIndexError (both with hints).
    """
    home_models = entry.paths.root.parent.parent / "models"
    embedder = load_embedder(
        resolve_model(entry.companion.model.embedding, [home_models, *model_dirs])
    )
    transcript = store if store is not None else TranscriptStore.open(entry.paths.transcript)
    try:
        memory = CompanionMemory(
            entry, transcript, embedder, Speakers(user=user_name, companion=entry.name),
            settings or RankSettings(), clock or (lambda: datetime.now().astimezone()),
        )  # fmt: skip
    except BaseException:
        if store is None:
            transcript.close()
        raise
    memory.owns_store = store is None
    return memory


def index_companion(
    entry: CompanionEntry,
    on_progress: Progress | None = None,
    *,
    model_dirs: Sequence[Path] = (),
    store: TranscriptStore | None = None,
) -> tuple[IndexReport, tuple[str, str] | None]:
    """Bring the companion's memory up to date, e.g. right after an import.

    Returns the report and, when the conversations' languages do not fit the embedding model,
    a (message, hint) warning to show. Raises EmbeddingModelError, MemoryIndexError.
    """
    with open_memory(entry, store=store, model_dirs=model_dirs) as memory:
        report = memory.index_new(on_progress)
        return report, memory.language_check().warning(entry.name, entry.slug)


def rebuild_memory(
    entry: CompanionEntry, on_progress: Progress | None = None, **options: Any
) -> tuple[CompanionMemory, IndexReport]:
    """Delete the memory directory and index the whole transcript again; works also when the
    directory cannot be opened at all (another version, another model, damaged).

    `options` are those of `open_memory`. The caller closes the memory returned.
    """
    lock_file = _lock_file(entry)
    lock.acquire(lock_file, entry.name)  # held from the deletion until the new one is open
    try:
        remove_directory(entry.paths.memory_dir, entry.paths.root)
        memory = open_memory(entry, **options)
    finally:
        lock.release(lock_file)
    try:
        return memory, memory.index_new(on_progress)
    except BaseException:
        memory.close()
        raise


def _lock_file(entry: CompanionEntry) -> Path:
    return entry.paths.root / "memory.lock"


class CompanionMemory:
    """One companion's open memory. One thread at a time; close it when done."""

    def __init__(
        self,
        entry: CompanionEntry,
        store: TranscriptStore,
        embedder: Embedder,
        speakers: Speakers,
        settings: RankSettings,
        clock: Callable[[], datetime],
    ) -> None:
        """Use `open_memory`."""
        self.entry = entry
        self.store = store
        self.owns_store = False
        self.embedder = embedder
        self.speakers = speakers
        self.settings = settings
        self.clock = clock
        self._lock_file = _lock_file(entry)
        lock.acquire(self._lock_file, entry.name)
        try:
            self.items, self.vectors = open_directory(entry.paths.memory_dir, embedder)
        except BaseException:
            lock.release(self._lock_file)
            raise
        self._connect()

    def _connect(self) -> None:
        self.indexer = Indexer(self.store, self.items, self.vectors, self.embedder, self.speakers)
        asking = KnownSpeakers(self.store, self.speakers)
        self.ranker = Ranker(self.embedder, self.vectors, self.items, self.settings, asking)

    def _close_files(self) -> None:
        self.ranker.close()
        self.vectors.close()
        self.items.close()

    def close(self) -> None:
        """Close the index files (and the transcript when it was opened here)."""
        self._close_files()
        lock.release(self._lock_file)
        if self.owns_store:
            self.store.close()

    def __enter__(self) -> CompanionMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- indexing and searching -------------------------------------------------------------

    def pending(self) -> int:
        """How many messages and stored memories are not indexed yet."""
        return self.indexer.pending()

    def index_new(
        self, on_progress: Progress | None = None, *, limit: int | None = None
    ) -> IndexReport:
        """Index what the transcript gained since the last call (see `indexer`), or with
        `limit` about that many messages of it. `on_progress(done, total)` is called as
        messages are indexed."""
        report = self.indexer.index_new(on_progress, limit=limit)
        if report.removed:  # sessions were deleted: the names they carried no longer count
            self.ranker.speakers.recount()
        return report

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        exclude_message_ids: Collection[int] = (),
        settings: RankSettings | None = None,
        now: datetime | None = None,
    ) -> list[Hit]:
        """The `k` memories that best match `query`, best first (see `rank`). Turns whose
        messages were deleted since they were indexed are dropped from the index on the way."""
        moment = now or self.clock()
        for _ in range(3):
            hits = self.ranker.search(
                query, k, now=moment, exclude_message_ids=exclude_message_ids, settings=settings
            )
            shown = {m for hit in hits for m in (*hit.item.message_ids, *hit.item.context_ids)}
            gone = shown - self.store.existing_message_ids(shown)
            if not gone:
                break
            stale = [hit.item for hit in hits if gone.intersection(
                (*hit.item.message_ids, *hit.item.context_ids)
            )]  # fmt: skip
            self.indexer.refresh([item.message_ids[0] for item in stale])
            self.ranker.speakers.recount()
        return hits

    def warm(self) -> None:
        """Do now the loading the first search would do (a chat opens memory in the background:
        its first turn should not wait)."""
        self.vectors.warm()

    def retriever(self) -> Any:
        """A `runtime.retrieval.Retriever` over this memory, for prompt assembly."""
        from runtime.memory.retriever import MemoryRetriever

        return MemoryRetriever(self)

    def item(self, item_id: str) -> Item:
        """An indexed memory by id ("turn:12", "memory:3"); NotFoundError when there is none."""
        found = self.items.get([item_id])
        if item_id not in found:
            raise NotFoundError(
                f"no memory '{item_id}'",
                hint="memory ids are shown by `hearth memory search` and `hearth memory list`",
            )
        return found[item_id]

    # --- changing memory -----------------------------------------------------------------------

    def remember(self, text: str, kind: str = "note") -> Item:
        """Store a memory written in Hearth (archival: found by search, not always in the
        prompt), index it and log it."""
        text = text.strip()
        if not text:
            raise UsageError("the memory text is empty", hint="say what to remember")
        _, last = self.store.last_ids()
        source_id = uuid.uuid4().hex
        new = NewMemory(kind=kind, text=text, source="hearth", source_id=source_id)
        self.store.add_memories([new])
        memory = next(m for m in self.store.memories_after(last) if m.source_id == source_id)
        self.store.log_memory_event("memory.add", f"memory:{memory.id}", None, text)
        self.index_new()
        return self.item(f"memory:{memory.id}")

    def edit_memory(self, memory_id: int, text: str) -> None:
        """Replace a stored memory's text (and its index entry), logged."""
        before = self.store.get_memory(memory_id).text
        self.store.set_memory_text(memory_id, text.strip())
        self.store.log_memory_event("memory.edit", f"memory:{memory_id}", before, text.strip())
        self.indexer.reindex_memory(memory_id)

    def forget(self, item_id: str) -> str:
        """Forget a memory for good; returns its text. A stored one ("memory:N") is emptied in
        the transcript file (a tombstone keeps a re-import from bringing it back) and removed
        from the index; a turn ("turn:N") is removed from the index and never indexed again
        (the conversation itself keeps its messages)."""
        kind, _, number = item_id.partition(":")
        if kind == "memory" and number.isdigit():
            before = self.store.get_memory(int(number)).text
            self.store.forget_memory(int(number))
        elif kind == "turn" and number.isdigit():
            before = self.item(item_id).text
            self.store.forget_item(item_id)
        else:
            raise UsageError(
                f"'{item_id}' is not a memory id", hint="use an id like memory:12 or turn:345"
            )
        self.store.log_memory_event("forget", item_id, before, None)
        if kind == "turn":  # the turns beside it show its messages: made again without them
            self.indexer.forget_turn(item_id, int(number))
        else:
            self.indexer.remove([item_id])
        return before

    def rebuild(self, on_progress: Progress | None = None) -> IndexReport:
        """Delete the memory directory and index the whole transcript again (the lock stays
        held; `rebuild_memory` does the same for a directory that cannot be opened)."""
        self._close_files()
        remove_directory(self.entry.paths.memory_dir, self.entry.paths.root)
        self.items, self.vectors = open_directory(self.entry.paths.memory_dir, self.embedder)
        self._connect()
        return self.index_new(on_progress)

    # --- facts ----------------------------------------------------------------------------------

    def language_check(self) -> LanguageCheck:
        """The companion's languages (latest 2,000 messages) against the embedding model."""
        info = self.embedder.info
        return LanguageCheck(language_mix(self.store.sample_texts()), info.name, info.multilingual)

    def stats(self) -> dict[str, Any]:
        """Counts, model, languages and size: the `hearth memory stats --json` object."""
        counts = self.items.count_by_kind()
        check = self.language_check()
        warning = check.warning(self.entry.name, self.entry.slug)
        return {
            "companion": self.entry.name,
            "items": sum(counts.values()),
            "by_kind": counts,
            "vectors": self.vectors.count(),
            "pending": self.pending(),
            "embedding_model": self.embedder.info.identity(),
            "multilingual_model": self.embedder.info.multilingual,
            "languages": check.mix,
            "warning": warning[0] if warning else None,
            "core_memories": len(self.entry.companion.core_memories),
            "path": str(self.entry.paths.memory_dir),
            "size_bytes": size(self.entry.paths.memory_dir),
        }
