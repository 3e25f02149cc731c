"""The chat's long-term memory: what each prompt retrieves, and indexing after every reply.

    memory = ChatMemory.open(entry, store)   # returns at once; opens in the background
    memory.retrieve(query, …)                # a runtime.retrieval.Retriever (hybrid search)
    memory.index_in_background()             # after a reply is stored
    memory.warning                           # (message, hint) when it runs on the fallback
    memory.close()                           # after the slice being indexed

Opening loads the embedding model and the companion's index (`runtime.memory`), which takes
seconds the first time in a process, so it happens on the memory's own thread while the chat
model loads and the first screen shows; the first retrieval waits for it (not for the exact-search
copy made next on the same thread, seconds in a large memory: Chroma's graph answers until it is
in place). When opening fails —
the model missing or corrupt, an index from another Hearth version, the memory in use by another
Hearth process — the chat goes on with keyword search over the transcript
(`runtime.retrieval.TranscriptRetriever`), and `warning` holds the one line (and hint) to show.

Indexing runs on the same thread, so no reply waits for it. The memory is used by one thread at
a time, so retrieval and indexing take turns on a lock; a long backlog (the first chat after an
import that was not indexed) goes in slices of `SLICE` messages, so a prompt waits at most one
slice. Turns already in the prompt's window are never retrieved (see `runtime.memory.rank`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.errors import HearthError, UsageError
from runtime.retrieval import RetrievedMemory, Retriever, TranscriptRetriever

if TYPE_CHECKING:
    from runtime.companions import CompanionEntry
    from runtime.memory.service import CompanionMemory
    from runtime.store import TranscriptStore

log = logging.getLogger(__name__)

SLICE = 500
"""Messages indexed per turn of the lock (about a second on two cores)."""
FALLBACK_HINT = "the chat searches the conversations by keywords until this is fixed"


class ChatMemory:
    """Long-term memory for one open chat: hybrid retrieval, or keyword search as a fallback."""

    def __init__(self, fallback: Retriever) -> None:
        """Use `open`; `fallback` retrieves when the memory cannot be opened."""
        self.fallback = fallback
        self._memory: CompanionMemory | None = None
        self._warning: tuple[str, str] | None = None
        self._opened = threading.Event()
        self._lock = threading.Lock()
        """Held while the memory is used (one thread at a time)."""
        self._queue_lock = threading.Lock()
        self._closing = threading.Event()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="hearth-memory")
        self._queued: Future[None] | None = None

    @classmethod
    def open(
        cls,
        entry: CompanionEntry,
        store: TranscriptStore,
        *,
        model_dirs: Sequence[Path] = (),
        user_name: str = "User",
    ) -> ChatMemory:
        """Start opening the companion's memory; keyword search over `store` if it fails."""
        memory = cls(TranscriptRetriever(store, char=entry.name, user=user_name))
        memory._worker.submit(memory._open, entry, model_dirs, user_name)
        return memory

    def _open(self, entry: CompanionEntry, model_dirs: Sequence[Path], user_name: str) -> None:
        from runtime.memory import open_memory

        try:
            memory = open_memory(entry, model_dirs=model_dirs, user_name=user_name)
            self._memory = memory
            # Searches may start now: until the exact-search copy is made (seconds for a
            # large memory) they are answered by Chroma's graph. Changes queue behind this.
            self._opened.set()
            try:
                memory.warm()
            except Exception:
                log.exception("making the exact-search copy failed; Chroma's graph instead")
        except HearthError as exc:
            log.warning("long-term memory is off (%s); keyword search instead", type(exc).__name__)
            hint = f"{exc.hint}; {FALLBACK_HINT}" if exc.hint else FALLBACK_HINT
            self._warning = (f"long-term memory is off: {exc.message}", hint)
        except Exception:  # a bug must not take the chat with it
            log.exception("opening long-term memory failed; keyword search instead")
            self._warning = ("long-term memory is off: it could not be opened", FALLBACK_HINT)
        finally:
            self._opened.set()

    @property
    def memory(self) -> CompanionMemory | None:
        """The open companion memory (waits for the opening); None on the fallback."""
        self._opened.wait()
        return self._memory

    @property
    def active(self) -> bool:
        """True when retrieval uses the long-term memory (waits for the opening)."""
        return self.memory is not None

    @property
    def warning(self) -> tuple[str, str] | None:
        """(message, hint) to show once when the chat runs on the keyword fallback (waits for
        the opening)."""
        self._opened.wait()
        return self._warning

    # --- retrieval ------------------------------------------------------------------------

    def retrieve(
        self, query: str, *, session_id: int | None, exclude_message_ids: Collection[int], k: int
    ) -> list[RetrievedMemory]:
        """At most `k` memories, best first, none made only of excluded (in-window) messages.
        A failing search falls back to keyword search for this turn (and is logged)."""
        memory = self.memory
        if memory is not None:
            from runtime.memory.retriever import retrieved

            try:
                with self._lock:
                    hits = memory.search(query, k, exclude_message_ids=exclude_message_ids)
                return [retrieved(hit) for hit in hits]
            except Exception as exc:  # never lose the turn over its memories
                log.error("memory search failed (%s); keyword search instead", type(exc).__name__)
        return self.fallback.retrieve(
            query, session_id=session_id, exclude_message_ids=exclude_message_ids, k=k
        )

    @contextmanager
    def using(self) -> Iterator[CompanionMemory]:
        """The open memory, for this thread alone while the block runs (memory screen: search,
        pin, forget). UsageError saying why when the chat runs on the keyword fallback."""
        memory = self.memory
        if memory is None:
            message, hint = self._warning or ("long-term memory is off", FALLBACK_HINT)
            raise UsageError(message, hint=hint)
        with self._lock:
            yield memory

    # --- indexing -------------------------------------------------------------------------

    def index_in_background(self) -> None:
        """Index what the transcript gained (a reply was stored, an import came in)."""
        with self._queue_lock:
            queued = self._queued
            if queued is not None and not queued.running() and not queued.done():
                return  # a round is already waiting to start: it will see this turn too
            if not self._closing.is_set():
                self._queued = self._worker.submit(self._index)

    def _index(self) -> None:
        memory = self._memory
        if memory is None:
            return
        try:
            while not self._closing.is_set():
                with self._lock:
                    memory.index_new(limit=SLICE)
                    if memory.pending() == 0:
                        return
        except Exception as exc:  # the transcript has it; the next round or a rebuild will too
            log.error("memory indexing failed (%s)", type(exc).__name__)

    def wait(self) -> None:
        """Block until opening and background indexing are done (tests)."""
        with self._queue_lock:
            done = self._worker.submit(lambda: None)
        done.result()

    def close(self) -> None:
        """Close the memory after the slice being indexed (the rest waits for the next chat)."""
        self._closing.set()
        with self._queue_lock:
            self._worker.shutdown(wait=True)
        if self._memory is not None:
            self._memory.close()
            self._memory = None
