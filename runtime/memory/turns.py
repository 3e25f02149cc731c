"""What episodic memory remembers: turns of the transcript, with their neighbours and speakers.

A turn is a user message with the reply that follows it (the newest reply when there were
regenerations, several companion messages in a row included), or companion messages that
start a conversation. One turn is one memory: a question and its answer are found together,
and a fact the user states keeps the reply that shows what it meant. A memory also shows the
turn's neighbours: the message before it (what it answers) and the message after it (how the
talk went on), so what is found reads in context, and a fact told just after the words a
question matches ("How did the move go?" / "I broke my mirror on the stairs") comes along.

Each turn has three kinds of text: `text`, the neighbours and the turn's messages with their
speakers' names, shown in the prompt and by `hearth memory search`; one vector per message of
the turn, in the third person ("Nora: Nora adopted a beagle", see `person`), so a message is
found by its own meaning, not blurred with its neighbours'; and the keyword text, every message
of the turn whole, with speaker names. A turn that opens with a short answer ("Torn
meniscus.") gets the message before it (the question it answers) in front, in its first vector
and its keywords. A neighbour that belongs to a forgotten turn is not shown.

Measured on the synthetic benchmark (bench/recall.py, 130 questions, 6 conversation sets),
hybrid recall@10: one vector per turn 0.550; per turn plus one line of the message before it
(neighbour context) 0.558, and indexing 2.5x slower; one vector per message 0.585; both 0.554.
Speaker names in the embedded text matter: without them dense recall@10 on the English
questions fell from 0.82 to 0.61 (questions name people: "What did Nora name her dog?").
Context before short answers (135 questions, 5 of them answers): hybrid recall@10 0.619
without, 0.637 in the vector, 0.670 in the vector and the keywords (answers 0.2 → 0.8), 0.611
with the message before every turn in the keywords; indexing time +1 %.
Neighbours shown (hand-written dialogs, bench/data/dialog_set.py, 400 + 442 questions): recall@10
0.620 → 0.732 and 0.639 → 0.719 with both, 0.728 and 0.702 with the message after only, 0.648
with the one before only; searching the neighbours' words or vectors as the turn's own lowered
it (0.713-0.729): each is found through its own turn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from runtime.memory.items import Item
from runtime.memory.language import CJK_SHARE, cjk_share
from runtime.memory.person import third_person
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

    def names(self) -> tuple[str, str]:
        """(user, companion)."""
        return self.user, self.companion


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

    def __init__(
        self, messages: Sequence[Message], speakers: Speakers, forgotten: Collection[str] = ()
    ) -> None:
        """`messages`: every message of one session (all branches); `forgotten`: item ids
        ("turn:N") never to index, nor to show as another turn's neighbour."""
        self.by_id = {m.id: m for m in messages}
        self.speakers = speakers
        self.forgotten = forgotten
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

    def _shown(self, message: Message | None) -> Message | None:
        """`message` if it may be shown beside a turn: not a system message, not empty, not
        part of a forgotten turn."""
        if message is None or message.role == "system" or not message.text.strip():
            return None
        head = self.head(message)
        if head is None or f"turn:{head.id}" in self.forgotten:
            return None
        return message

    def before(self, head: Message) -> Message | None:
        """The message the turn follows (None at the start of a conversation)."""
        return self._shown(self.by_id.get(head.parent_id) if head.parent_id else None)

    def after(self, members: Sequence[Message]) -> Message | None:
        """The message that follows the turn (the newest, where there are alternatives)."""
        following = [c for c in self.children.get(members[-1].id, []) if c.role != "system"]
        return self._shown(following[-1]) if following else None

    def context(self, head: Message) -> str | None:
        """The line before `head` (the previous turn's last message), when `head` is too short
        to mean much alone; else None."""
        if not _is_short(head.text):
            return None
        before = self.before(head)
        if before is None:
            return None
        return f"{self.speakers.of(before)}: {_clip(before.text, CONTEXT_CHARS)}"

    def listener(self, message: Message) -> str | None:
        """Whom `message` speaks to: the speaker of the message it follows, or of the first
        reply to it, when that is someone else."""
        speaker = self.speakers.of(message)
        parent = self.by_id.get(message.parent_id) if message.parent_id else None
        for other in (parent, *self.children.get(message.id, [])):
            if other is not None and other.role != "system":
                name = self.speakers.of(other)
                if name != speaker:
                    return name
        return None

    def prepare(self, head: Message) -> Prepared:
        """The turn starting at `head` as an item to index."""
        members = self.members(head)
        before, after = self.before(head), self.after(members)
        shown = [m for m in (before, *members, after) if m is not None]
        text = "\n".join(f"{self.speakers.of(m)}: {_clip(m.text, SHOWN_CHARS)}" for m in shown)
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
            source_ids=tuple(m.source_id for m in shown if m.source_id),
            created_at=head.created_at,
            context_ids=tuple(m.id for m in (before, after) if m is not None),
            speakers=tuple(dict.fromkeys(self.speakers.of(m) for m in shown)),
        )
        partial = any(m.partial for m in shown)
        views = [self.view(m) for m in members if m.text.strip()]
        if context is not None and views:
            views[0] = f"{context}\n{views[0]}"
        return Prepared(item, tuple(views) or (text,), keyword_text[:KEYWORD_CHARS], partial)

    def view(self, message: Message) -> str:
        """What `message` is embedded as: its speaker's name, then its text in the third
        person (see `person`)."""
        speaker = self.speakers.of(message)
        said = third_person(message.text, speaker, self.listener(message))
        return f"{speaker}: {_clip(said, SHOWN_CHARS)}"

    def neighbours(self, head: Message) -> list[Message]:
        """Heads of the turns that show one of this turn's messages beside them: the turn
        before and the turns after (one per branch)."""
        found: list[Message] = []
        parent = self.by_id.get(head.parent_id) if head.parent_id else None
        previous = self.head(parent) if parent is not None else None
        if previous is not None:
            found.append(previous)
        for member in self.members(head):
            for child in self.children.get(member.id, []):
                following = self.head(child) if child.role != "assistant" else None
                if following is not None and following.id != head.id:
                    found.append(following)
        return found


def turns_for(
    messages: Sequence[Message],
    changed: Iterable[int],
    speakers: Speakers,
    forgotten: Collection[str] = (),
    *,
    with_neighbours: bool = True,
) -> list[Prepared]:
    """The turns of one session (`messages`: all of it) that contain a `changed` message id,
    and (`with_neighbours`) the turns beside them, whose shown neighbours may have changed;
    none that is `forgotten`."""
    session = SessionTurns(messages, speakers, forgotten)
    heads: dict[int, Message] = {}
    for message_id in changed:
        message = session.by_id.get(message_id)
        head = session.head(message) if message is not None else None
        if head is None:
            continue
        for turn in (head, *(session.neighbours(head) if with_neighbours else ())):
            if turn.text.strip() and f"turn:{turn.id}" not in forgotten:
                heads[turn.id] = turn
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
