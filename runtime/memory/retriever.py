"""Memory as prompt assembly sees it: a `runtime.retrieval.Retriever` over a companion's memory."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from runtime.retrieval import RetrievedMemory

if TYPE_CHECKING:
    from runtime.memory.rank import Hit
    from runtime.memory.service import CompanionMemory


def retrieved(hit: Hit) -> RetrievedMemory:
    """A ranked memory in the shape prompt assembly and `hearth memory search` use."""
    item = hit.item
    return RetrievedMemory(
        id=item.id,
        text=item.text,
        score=round(hit.score, 4),
        kind=item.kind,
        session_id=item.session_id,
        message_ids=item.message_ids,
        source_ids=item.source_ids,
        created_at=item.created_at,
    )


class MemoryRetriever:
    """Hybrid, time-aware retrieval over an open `CompanionMemory` (see `rank`)."""

    def __init__(self, memory: CompanionMemory) -> None:
        """Retrieve from `memory`, which stays owned (and closed) by the caller."""
        self.memory = memory

    def retrieve(
        self, query: str, *, session_id: int | None, exclude_message_ids: Collection[int], k: int
    ) -> list[RetrievedMemory]:
        """At most `k` memories, best first; turns wholly inside the prompt's window are skipped.

        `session_id` is not used to filter: memories from every conversation count.
        """
        hits = self.memory.search(query, k, exclude_message_ids=exclude_message_ids)
        return [retrieved(hit) for hit in hits]
