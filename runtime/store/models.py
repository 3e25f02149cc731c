"""What the transcript store hands out: sessions, messages and steps of the active path.

All values are frozen dataclasses built from rows; changing one means calling the store.

Timestamps are stored as ISO-8601 text in UTC with a fixed width,
`YYYY-MM-DDTHH:MM:SS.ffffff+00:00`, so that comparing the strings (SQL `ORDER BY`, `max()`) is
comparing the times, and a person reading the file with `sqlite3` sees real dates. In Python
they are timezone-aware `datetime`s in UTC; `format_timestamp` gives the ISO string the CLI prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
ROLES: frozenset[str] = frozenset({"system", "user", "assistant"})


def now_utc() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """`moment` as the stored ISO-8601 UTC string; a naive datetime is a bug (whose clock?)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp {moment!r} has no timezone; pass an aware datetime")
    # timespec fixes six fractional digits (isoformat drops them when zero), so every stored
    # string has the same width and string order is time order. Faster than strftime, which
    # matters when an import stamps a few hundred thousand messages.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_timestamp(text: str) -> datetime:
    """A stored ISO-8601 string back to an aware UTC datetime."""
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Session:
    """One conversation. `id` is what users type (`hearth sessions show 12`)."""

    id: int
    title: str | None
    source: str
    """Where it came from: "hearth" for chats made here, else the importer's name ("chatgpt")."""
    source_id: str | None
    """The conversation's id in the original export; re-imports find it by (source, source_id)."""
    created_at: datetime
    updated_at: datetime
    active_leaf_id: int | None
    """The last message of the branch being shown and continued; None for an empty session."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, timestamps as ISO-8601 strings."""
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "source_id": self.source_id,
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
            "active_leaf_id": self.active_leaf_id,
        }


@dataclass(frozen=True)
class SessionSummary(Session):
    """A session as listed: its fields plus how many messages it holds on all branches."""

    message_count: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, timestamps as ISO-8601 strings."""
        return {**super().to_dict(), "message_count": self.message_count}


@dataclass(frozen=True)
class Message:
    """One message in a session's tree. The root has no parent; siblings are alternatives."""

    id: int
    session_id: int
    parent_id: int | None
    role: Role
    text: str
    created_at: datetime
    model: str | None
    """The model (slug or file name) that wrote an assistant message; None for people."""
    source_id: str | None
    """The message's id in the original export, for idempotent re-imports."""
    # Not hashed: a dict cannot be, and two messages with the same id are the same message anyway.
    metadata: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def partial(self) -> bool:
        """True while a reply is being streamed, or when its generation was interrupted."""
        return bool(self.metadata.get("partial", False))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, timestamps as ISO-8601 strings."""
        return {
            "id": self.id,
            "session_id": self.session_id,
            "parent_id": self.parent_id,
            "role": self.role,
            "text": self.text,
            "created_at": format_timestamp(self.created_at),
            "model": self.model,
            "source_id": self.source_id,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class PathStep:
    """A message on the active path with its place among its alternatives ("2 of 3")."""

    message: Message
    position: int
    """1-based rank of the message among its siblings, in creation order."""
    alternatives: int
    """How many messages share this place in the tree, the message included (1: no branch)."""


@dataclass(frozen=True)
class NewMessage:
    """A message to add with `TranscriptStore.append_many`; the store assigns id and parent."""

    role: Role
    text: str
    created_at: datetime | None = None
    model: str | None = None
    source_id: str | None = None
    metadata: dict[str, Any] | None = None


def dump_metadata(metadata: dict[str, Any] | None) -> str:
    """Metadata as compact JSON text; non-ASCII kept as is so the file stays readable."""
    if not metadata:
        return "{}"
    return json.dumps(metadata, ensure_ascii=False, separators=(",", ":"))


def load_metadata(text: str) -> dict[str, Any]:
    """Stored metadata text back to a dict ("{}" is by far the most common, so skip parsing it)."""
    return {} if text == "{}" else json.loads(text)


@dataclass(frozen=True)
class NewTreeMessage(NewMessage):
    """A message for `TranscriptStore.append_tree`: it names its parent by source id."""

    parent_source_id: str | None = None
    """The parent's `source_id` (earlier in the same batch, or already stored); None: a root."""


TreeRow = tuple[str | None, str | None, str, str, str, str | None, str]
"""A message for `TranscriptStore.append_rows`, already in stored form: (source_id,
parent_source_id, role, text, created_at as `format_timestamp` text, model, metadata as
`dump_metadata` text). A plain tuple: imports build and pickle hundreds of thousands."""


@dataclass(frozen=True)
class NewMemory:
    """A fact to keep in the `memories` table (see `TranscriptStore.add_memories`)."""

    kind: str
    """What sort of memory: "saved_memory", "custom_instructions", "lorebook", …"""
    text: str
    source: str
    """Where it came from: the importer's name ("chatgpt"), or "hearth"."""
    source_id: str | None = None
    """Its id in the source; a memory with the same (source, source_id) is stored once."""
    created_at: datetime | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class Memory:
    """A stored memory row."""

    id: int
    kind: str
    text: str
    source: str
    source_id: str | None
    created_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict, hash=False)
