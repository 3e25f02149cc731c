"""The retrieval hook: how prompt assembly asks for memories relevant to the newest message.

Prompt assembly depends only on the `Retriever` protocol. The chat retrieves from the
companion's long-term memory (`runtime.memory`: Chroma + FTS5, hybrid ranking; wired in by
`runtime.chat.memory.ChatMemory`). Two simple implementations remain:

- `TranscriptRetriever`: the chat's fallback when long-term memory cannot be opened (embedding
  model missing or corrupt, index from another version, in use by another process): keyword
  search (BM25) over the companion's whole transcript, every session, minus the messages
  already in the prompt's window; plus the imported memories when the transcript file has them;
- `MemoryListRetriever`: the same ranking over a fixed list of memories (tests, benchmarks).

Keywords are lower-cased words, and character bigrams for Chinese, Japanese and Korean text
(which has no spaces to split words at), so retrieval is not English-only.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from runtime.errors import NotFoundError

if TYPE_CHECKING:
    from runtime.store import Message, TranscriptStore


@dataclass(frozen=True)
class RetrievedMemory:
    """A memory handed to prompt assembly, with where it came from."""

    id: str
    """Stable id, e.g. "message:42" or an imported memory's id."""
    text: str
    score: float
    """Relevance; higher is better (only comparable within one retrieval)."""
    kind: str
    """"episodic" (a transcript turn), "imported", "core", …"""
    session_id: int | None = None
    message_ids: tuple[int, ...] = ()
    """Transcript messages the memory stands for (excluded while they are in the window)."""
    source_ids: tuple[str, ...] = ()
    """Ids in the original export, for imported memories."""
    created_at: datetime | None = None


class Retriever(Protocol):
    """Finds memories relevant to `query` (see the module docstring for the implementations)."""

    def retrieve(
        self,
        query: str,
        *,
        session_id: int | None,
        exclude_message_ids: Collection[int],
        k: int,
    ) -> list[RetrievedMemory]:
        """At most `k` memories, best first, none standing only for excluded messages."""
        ...


# --- keywords -------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_STOPWORDS = """a an and are as at be but by do for from had has have he her him his how i if in
is it its me my no not of on or our she so that the their them then there they this to was we
were what when where which who why will with you your yes"""
STOPWORDS = frozenset(_STOPWORDS.split())


def keywords(text: str) -> list[str]:
    """Search terms: words (stopwords dropped) and CJK character bigrams."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        rest = _CJK.sub(" ", word).split()
        terms.extend(w for w in rest if len(w) > 1 and w not in STOPWORDS and not w.isdigit())
        for run in _CJK.findall(word):
            terms.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return terms


class KeywordIndex:
    """A small in-memory BM25 index: documents keyed by id, searched by keywords."""

    K1 = 1.2
    B = 0.75

    def __init__(self) -> None:
        self._postings: dict[str, dict[str, int]] = {}
        self._terms: dict[str, Counter[str]] = {}
        self._lengths: dict[str, int] = {}
        self._length_sum = 0

    def __len__(self) -> int:
        return len(self._terms)

    def add(self, doc_id: str, text: str) -> None:
        """Index `text` under `doc_id`, replacing what was there."""
        self.remove(doc_id)
        counts = Counter(keywords(text))
        self._terms[doc_id] = counts
        self._lengths[doc_id] = sum(counts.values())
        self._length_sum += self._lengths[doc_id]
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[doc_id] = tf

    def remove(self, doc_id: str) -> None:
        """Forget `doc_id` (nothing happens when it is unknown)."""
        counts = self._terms.pop(doc_id, None)
        if counts is None:
            return
        self._length_sum -= self._lengths.pop(doc_id)
        for term in counts:
            postings = self._postings[term]
            del postings[doc_id]
            if not postings:
                del self._postings[term]

    def search(self, query: str, *, skip: Collection[str] = ()) -> list[tuple[str, float]]:
        """(doc_id, score) for every document sharing a keyword with `query`, best first."""
        total = len(self._terms)
        if not total:
            return []
        average = self._length_sum / total or 1.0
        scores: Counter[str] = Counter()
        for term in set(keywords(query)):
            postings = self._postings.get(term, {})
            idf = math.log(1 + (total - len(postings) + 0.5) / (len(postings) + 0.5))
            for doc_id, tf in postings.items():
                if doc_id in skip:
                    continue
                norm = tf + self.K1 * (1 - self.B + self.B * self._lengths[doc_id] / average)
                scores[doc_id] += idf * tf * (self.K1 + 1) / norm
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


# --- retrievers -----------------------------------------------------------------------------


class MemoryListRetriever:
    """Keyword retrieval over a fixed list of memories."""

    def __init__(self, memories: Iterable[RetrievedMemory]) -> None:
        self._memories = {memory.id: memory for memory in memories}
        self._index = KeywordIndex()
        for memory in self._memories.values():
            self._index.add(memory.id, memory.text)

    def retrieve(
        self, query: str, *, session_id: int | None, exclude_message_ids: Collection[int], k: int
    ) -> list[RetrievedMemory]:
        """The `k` memories sharing most keywords with `query` (see `Retriever`)."""
        excluded = set(exclude_message_ids)
        found = []
        for doc_id, score in self._index.search(query):
            memory = self._memories[doc_id]
            if memory.message_ids and set(memory.message_ids) <= excluded:
                continue
            found.append(_with_score(memory, score))
            if len(found) == k:
                break
        return found


class TranscriptRetriever:
    """Keyword retrieval over every message of a companion's transcript (all sessions) and its
    imported memories.

    The index is built on first use and then refreshed for the session being chatted in (new
    messages only appear there). Hits deleted since indexing are dropped.
    """

    SNIPPET = 400

    def __init__(self, store: TranscriptStore, *, char: str, user: str) -> None:
        self._store = store
        self._char, self._user = char, user
        self._index = KeywordIndex()
        self._texts: dict[int, str] = {}
        self._imported: dict[str, RetrievedMemory] = {}
        self._built = False

    def _add(self, messages: Sequence[Message]) -> None:
        for message in messages:
            if message.role == "system" or self._texts.get(message.id) == message.text:
                continue
            self._texts[message.id] = message.text
            self._index.add(str(message.id), message.text)

    def _add_imported(self) -> None:
        """Index the transcript's imported memories, when the store keeps any."""
        stored = getattr(self._store, "memories", None)
        for memory in stored() if callable(stored) else []:
            doc_id = f"memory:{memory.id}"
            self._imported[doc_id] = RetrievedMemory(
                id=doc_id,
                text=memory.text,
                score=0.0,
                kind="imported",
                source_ids=(memory.source_id,) if memory.source_id else (),
                created_at=memory.created_at,
            )
            self._index.add(doc_id, memory.text)

    def _refresh(self, session_id: int | None) -> None:
        if not self._built:
            for session in self._store.list_sessions():
                self._add(self._store.messages(session.id))
            self._add_imported()
            self._built = True
        elif session_id is not None:
            self._add(self._store.messages(session_id))

    def retrieve(
        self, query: str, *, session_id: int | None, exclude_message_ids: Collection[int], k: int
    ) -> list[RetrievedMemory]:
        """The `k` transcript messages outside the window that best match `query`."""
        self._refresh(session_id)
        skip = {str(message_id) for message_id in exclude_message_ids}
        found: list[RetrievedMemory] = []
        for doc_id, score in self._index.search(query, skip=skip):
            if doc_id in self._imported:
                found.append(_with_score(self._imported[doc_id], score))
                if len(found) == k:
                    break
                continue
            try:
                message = self._store.get_message(int(doc_id))
            except NotFoundError:
                self._index.remove(doc_id)
                self._texts.pop(int(doc_id), None)
                continue
            found.append(self._memory(message, score))
            if len(found) == k:
                break
        return found

    def _memory(self, message: Message, score: float) -> RetrievedMemory:
        who = self._char if message.role == "assistant" else self._user
        text = " ".join(message.text.split())
        if len(text) > self.SNIPPET:
            text = text[: self.SNIPPET - 1] + "…"
        return RetrievedMemory(
            id=f"message:{message.id}",
            text=f"{who} said: {text}",
            score=round(score, 4),
            kind="episodic",
            session_id=message.session_id,
            message_ids=(message.id,),
            created_at=message.created_at,
        )


def _with_score(memory: RetrievedMemory, score: float) -> RetrievedMemory:
    return replace(memory, score=round(score, 4))
