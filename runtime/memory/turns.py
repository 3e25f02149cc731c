"""What episodic memory remembers: turns of the transcript, each with its speaker names.

A turn is a user message with the reply that follows it (the newest reply when there were
regenerations, several companion messages in a row included), or companion messages that
start a conversation. One turn is one memory: a question and its answer are found together,
and a fact the user states keeps the reply that shows what it meant.

Each turn has three kinds of text: `text`, the messages with their speakers' names, shown in
the prompt and by `hearth memory search`; one vector per message ("Nora: I adopted a beagle"),
so a message is found by its own meaning, not blurred with its neighbours' (the item, found by
any of its vectors, still brings the neighbour along); and the keyword text, every message
whole, with speaker names. A turn that opens with a short answer ("Torn meniscus.") gets the
message before it (the question it answers) in front, in its first vector and its keywords.

Measured on the synthetic benchmark (bench/recall.py, 130 questions, 6 conversation sets),
hybrid recall@10: one vector per turn 0.550; per turn plus one line of the message before it
(neighbour context) 0.558, and indexing 2.5x slower; one vector per message 0.585; both 0.554.
Speaker names in the embedded text matter: without them dense recall@10 on the English
questions fell from 0.82 to 0.61 (questions name people: "What did Nora name her dog?").
Context before short answers (135 questions, 5 of them answers): hybrid recall@10 0.619
without, 0.637 in the vector, 0.670 in the vector and the keywords (answers 0.2 → 0.8), 0.611
with the message before every turn in the keywords; indexing time +1 %.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from runtime.memory.items import Item
from runtime.memory.language import CJK_SHARE, cjk_share
from runtime.store import Memory, Message

SHORT_WORDS = 8
SHORT_CJK_CHARS = 16
"""A message shorter than this (words; characters of CJK text) is embedded with the message
before it: "Torn meniscus." means little alone, after "What did the doctor say about your
knee?" it is found by a question about the knee."""
CONTEXT_CHARS = 200
"""Longest part of that message before it kept as context."""
MAX_MESSAGES = 6
"""Companion messages in a row kept in one turn."""
SHOWN_CHARS = 600
"""Longest message text shown and embedded (~150 tokens; the rest is on the keyword side)."""
KEYWORD_CHARS = 20_000


@dataclass(frozen=True)
class Speakers:
    """Names used when a message does not carry its speaker's own name."""

    user: str
    companion: str

    def of(self, message: Message) -> str:
        """The message's speaker: its imported `name`, else the role's default name."""
        name = message.metadata.get("name")
        if isinstance(name, str) and name.strip():
            return name.strip()
        return self.companion if message.role == "assistant" else self.user


@dataclass(frozen=True)
class Prepared:
    """An item ready to index: what to store, what to embed, what to index by keyword."""

    item: Item
    embed_texts: tuple[str, ...]
    """What is embedded: one vector per text (the first is the item's own id in Chroma)."""
    keyword_text: str
    partial: bool = False
    """A reply still being written (or interrupted): indexed now, refreshed next time."""


def _is_short(text: str) -> bool:
    if cjk_share(text) > CJK_SHARE:
        return len(text.strip()) < SHORT_CJK_CHARS
    return len(text.split()) < SHORT_WORDS


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class SessionTurns:
    """The turns of one session's message tree."""

    def __init__(self, messages: Sequence[Message], speakers: Speakers) -> None:
        """`messages`: every message of one session (all branches)."""
        self.by_id = {m.id: m for m in messages}
        self.speakers = speakers
        self.children: dict[int | None, list[Message]] = defaultdict(list)
        for message in sorted(messages, key=lambda m: m.id):
            self.children[message.parent_id].append(message)

    def head(self, message: Message) -> Message | None:
        """The first message of the turn `message` belongs to (None for system messages)."""
        if message.role == "system":
            return None
        current = message
        while current.role == "assistant":
            parent = self.by_id.get(current.parent_id) if current.parent_id else None
            if parent is None or parent.role == "system":
                return current
            current = parent
        return current

    def members(self, head: Message) -> list[Message]:
        """The turn starting at `head`: it, then the newest companion reply chain below it."""
        members = [head]
        current = head
        while len(members) <= MAX_MESSAGES:
            replies = [c for c in self.children.get(current.id, []) if c.role == "assistant"]
            if not replies:
                break
            current = replies[-1]  # newest: what a regeneration replaced is an alternative
            members.append(current)
        return members

    def context(self, head: Message) -> str | None:
        """The line before `head` (the previous turn's last message), when `head` is too short
        to mean much alone; else None."""
        if not _is_short(head.text) or head.parent_id is None:
            return None
        before = self.by_id.get(head.parent_id)
        if before is None or before.role == "system" or not before.text.strip():
            return None
        return f"{self.speakers.of(before)}: {_clip(before.text, CONTEXT_CHARS)}"

    def prepare(self, head: Message) -> Prepared:
        """The turn starting at `head` as an item to index."""
        members = self.members(head)
        lines = [f"{self.speakers.of(m)}: {_clip(m.text, SHOWN_CHARS)}" for m in members]
        text = "\n".join(lines)
        keyword_text = " ".join(f"{self.speakers.of(m)} {m.text}" for m in members)
        context = self.context(head)
        if context is not None:  # the words of the question it answers, for BM25 too
            keyword_text = f"{context} {keyword_text}"
        item = Item(
            id=f"turn:{head.id}",
            kind="episodic",
            text=text,
            session_id=head.session_id,
            message_ids=tuple(m.id for m in members),
            source_ids=tuple(m.source_id for m in members if m.source_id),
            created_at=head.created_at,
        )
        partial = any(m.partial for m in members)
        views = [line for line, m in zip(lines, members, strict=True) if m.text.strip()]
        if context is not None and views:
            views[0] = f"{context}\n{views[0]}"
        return Prepared(item, tuple(views) or (text,), keyword_text[:KEYWORD_CHARS], partial)


def turns_for(
    messages: Sequence[Message], changed: Iterable[int], speakers: Speakers
) -> list[Prepared]:
    """The turns of one session (`messages`: all of it) that contain a `changed` message id."""
    session = SessionTurns(messages, speakers)
    heads: dict[int, Message] = {}
    for message_id in changed:
        message = session.by_id.get(message_id)
        head = session.head(message) if message is not None else None
        if head is not None and head.text.strip():
            heads[head.id] = head
    return [session.prepare(heads[key]) for key in sorted(heads)]


def memory_item(memory: Memory) -> Prepared:
    """A stored memory (imported, or written in Hearth) as an item to index."""
    kind = "archival" if memory.source == "hearth" else "imported"
    item = Item(
        id=f"memory:{memory.id}",
        kind=kind,
        text=_clip(memory.text, SHOWN_CHARS * 2),
        session_id=None,
        message_ids=(),
        source_ids=(memory.source_id,) if memory.source_id else (),
        created_at=memory.created_at,
    )
    return Prepared(item, (memory.text,), memory.text[:KEYWORD_CHARS])
