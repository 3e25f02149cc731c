"""Memory letters: a long letter about you, your companion and your life together, turned into
core memory blocks (within their budgets) and archival memories.

People kept 10,000-word letters because their companion forgot. `plan_letter` splits one by
rules (no model involved, so the result is predictable and shown before anything is written):

1. sections by headings (`# About me`, `About us:`), then paragraphs, bullet points, and long
   paragraphs into sentence groups;
2. each piece goes where its heading says, else where its words say: about "we/us/our" (我们,
   우리, kita, 私たち) → the `relationship` block; else by who is named first, "I/me/my" (我,
   나/내, aku/saya, 私) → `user`, "you/your" (你, 너/당신, kamu, あなた) → `companion`;
3. pieces fill their block in letter order while it stays within its character limit; what
   does not fit, or fits no block, becomes an archival memory (found by search when it matters).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runtime.companion import CoreMemory
from runtime.store import NewMemory

if TYPE_CHECKING:
    from runtime.memory.core import CoreMemories
    from runtime.memory.service import CompanionMemory

DEFAULT_LIMIT = 2000
PIECE_CHARS = 400
ARCHIVAL = "archival"

_HEADING = re.compile(r"^\s*(?:#{1,6}\s*(?P<md>.+?)\s*#*|(?P<colon>[^\n.!?。！？]{2,60})[:：])\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")
_CUES = {
    "relationship": re.compile(
        r"\b(?:we|us|our|ours|together|each other|anniversary|kita|kami|bersama)\b"
        r"|我们|我們|咱们|一起|우리|함께|私たち|僕たち|二人|ふたり",
        re.IGNORECASE,
    ),
    "user": re.compile(
        r"\b(?:i|i'm|i've|i'd|me|my|mine|myself|aku|saya|ku)\b|我|나는|내가|내\s|저는|제가|私|僕|俺",
        re.IGNORECASE,
    ),
    "companion": re.compile(
        r"\b(?:you|your|you're|yours|yourself|kamu|engkau|anda)\b|你|妳|您|너|네가|당신|あなた|君",
        re.IGNORECASE,
    ),
}
_HEADING_WORDS = {
    "relationship": ("us", "our", "relationship", "together", "we", "我们", "우리", "kita",
                     "私たち"),
    "user": ("me", "myself", "about me", "who i am", "my life", "关于我", "나에 대해",
             "tentang aku", "私について"),
    "companion": ("you", "about you", "your", "关于你", "너에 대해", "tentang kamu", "あなた"),
}  # fmt: skip


@dataclass(frozen=True)
class Piece:
    """A part of the letter and where it goes."""

    text: str
    destination: str
    """A core block label ("user", "relationship", "companion") or "archival"."""
    reason: str
    """Why: "heading 'About me'", "words", "over budget", "no cue"."""


@dataclass
class LetterPlan:
    """What a letter does: every piece's destination and the core blocks afterwards."""

    pieces: list[Piece] = field(default_factory=list)
    blocks: list[CoreMemory] = field(default_factory=list)

    @property
    def archival(self) -> list[str]:
        """Texts that become archival memories."""
        return [p.text for p in self.pieces if p.destination == ARCHIVAL]

    def counts(self) -> dict[str, int]:
        """How many pieces go to each destination."""
        counts: dict[str, int] = {}
        for piece in self.pieces:
            counts[piece.destination] = counts.get(piece.destination, 0) + 1
        return counts


def split_letter(text: str) -> list[tuple[str | None, str]]:
    """(heading or None, piece) for each paragraph, bullet or sentence group, in order."""
    heading: str | None = None
    pieces: list[tuple[str | None, str]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            pieces.extend((heading, part) for part in _parts(" ".join(paragraph)))
            paragraph.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        match = _HEADING.match(line)
        if match and not _BULLET.match(line):
            flush()
            heading = (match["md"] or match["colon"]).strip()
        elif not line.strip():
            flush()
        elif _BULLET.match(line):
            flush()
            paragraph.append(_BULLET.sub("", line).strip())
            flush()
        else:
            paragraph.append(line.strip())
    flush()
    return pieces


def _parts(paragraph: str) -> list[str]:
    """A paragraph as pieces of at most about PIECE_CHARS, cut between sentences."""
    if len(paragraph) <= PIECE_CHARS:
        return [paragraph]
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE.split(paragraph):
        if current and len(current) + len(sentence) + 1 > PIECE_CHARS:
            parts.append(current)
            current = ""
        current = f"{current} {sentence}".strip() if current else sentence.strip()
    if current:
        parts.append(current)
    return parts


def classify(heading: str | None, piece: str) -> tuple[str, str]:
    """(destination, reason) of one piece."""
    if heading:
        lowered = heading.casefold()
        for block, words in _HEADING_WORDS.items():
            if any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", lowered) for w in words):
                return block, f"heading '{heading}'"
    if _CUES["relationship"].search(piece):
        return "relationship", "words"
    # Whoever is named first is usually the subject: "You always tease me" is about the
    # companion, "I love it when you sing" about the user.
    first = {b: m.start() for b in ("user", "companion") if (m := _CUES[b].search(piece))}
    if first:
        return min(first, key=lambda block: first[block]), "words"
    return ARCHIVAL, "no cue"


def plan_letter(text: str, blocks: list[CoreMemory]) -> LetterPlan:
    """Where each piece of `text` goes, given the companion's current core `blocks`."""
    current = {b.label: b for b in blocks}
    texts = {b.label: b.text for b in blocks}
    plan = LetterPlan()
    for heading, piece in split_letter(text):
        destination, reason = classify(heading, piece)
        if destination != ARCHIVAL:
            limit = current[destination].limit if destination in current else DEFAULT_LIMIT
            existing = texts.get(destination, "")
            if piece in existing:
                continue  # already remembered (the same letter read twice)
            joined = f"{existing}\n{piece}" if existing else piece
            if len(joined) > limit:
                destination, reason = ARCHIVAL, f"over the {destination} budget"
            else:
                texts[destination] = joined
        plan.pieces.append(Piece(piece, destination, reason))
    plan.blocks = [
        CoreMemory(label=b.label, text=texts[b.label], limit=b.limit) for b in blocks
    ] + [
        CoreMemory(label=label, text=body, limit=DEFAULT_LIMIT)
        for label, body in texts.items()
        if label not in current
    ]
    return plan


def archival_source_id(letter_text: str, index: int) -> str:
    """A stable id per archival piece, so reading the same letter twice adds nothing."""
    digest = hashlib.sha256(letter_text.encode("utf-8")).hexdigest()[:16]
    return f"letter:{digest}:{index}"


def apply_letter(
    plan: LetterPlan, letter_text: str, name: str, core: CoreMemories, memory: CompanionMemory
) -> int:
    """Write the plan: core blocks (each change logged), archival memories (indexed).

    Returns how many archival memories were new (a letter read twice adds nothing).
    """
    core.set_blocks(plan.blocks, "core.letter")
    memories = [
        NewMemory(kind="letter", text=text, source="hearth",
                  source_id=archival_source_id(letter_text, n), metadata={"letter": name})
        for n, text in enumerate(plan.archival)
    ]  # fmt: skip
    added = memory.store.add_memories(memories)
    if added:
        memory.store.log_memory_event("letter", name, None, f"{added} archival memories")
    memory.index_new()
    return added
