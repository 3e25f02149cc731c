"""Sessions → conversations: the active path of each session, as turns.

Only the active branch is trained on (it is what the user kept). Where the user regenerated a
reply, the versions they did not keep ride along with the kept one (`Turn.rejected`), for the
preference pairs. System messages and empty messages are left out here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from runtime.store import Message, Session, SessionSummary, TranscriptStore


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, as the dataset sees it."""

    role: Literal["user", "assistant"]
    text: str
    created_at: datetime
    model: str | None = None
    """The model slug that wrote a reply (None for the user, or when unknown)."""
    trained: bool = True
    """For replies: whether the model learns from it (weight 1) or only reads it (weight 0)."""
    partial: bool = False
    """The reply was stopped before it finished."""
    rejected: tuple[str, ...] = ()
    """Texts of the regenerated versions the user did not keep (replies only)."""

    def with_text(self, text: str) -> Turn:
        return replace(self, text=text)


@dataclass
class Conversation:
    """A session's active path."""

    session_id: int
    source: str
    """Where the session came from ("chatgpt", "hearth", …)."""
    turns: list[Turn] = field(default_factory=list)

    @property
    def first_at(self) -> datetime:
        return self.turns[0].created_at

    @property
    def last_at(self) -> datetime:
        return max(turn.created_at for turn in self.turns)


def _rejected(chosen: Message, siblings: list[Message]) -> tuple[str, ...]:
    """The other finished versions of a regenerated reply, oldest first."""
    if chosen.role != "assistant":
        return ()
    return tuple(
        sibling.text
        for sibling in siblings
        if sibling.id != chosen.id
        and sibling.role == "assistant"
        and sibling.text.strip()
        and not sibling.partial
        and sibling.text.strip() != chosen.text.strip()
    )


def read_conversation(store: TranscriptStore, session: Session) -> Conversation:
    """One session's active path as a conversation (possibly without turns).

    Reads the session's messages once and walks up from the active leaf: one plain query,
    and the siblings of every step come with it.
    """
    messages = store.messages(session.id)
    by_id = {message.id: message for message in messages}
    children: dict[int | None, list[Message]] = defaultdict(list)
    for message in messages:  # creation order
        children[message.parent_id].append(message)
    path: list[Message] = []
    node = by_id.get(session.active_leaf_id) if session.active_leaf_id is not None else None
    while node is not None:
        path.append(node)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    conversation = Conversation(session.id, session.source)
    for message in reversed(path):
        if message.role == "system" or not message.text.strip():
            continue
        conversation.turns.append(
            Turn(
                role=message.role,
                text=message.text.strip(),
                created_at=message.created_at,
                model=message.model,
                partial=message.partial,
                rejected=_rejected(message, children[message.parent_id]),
            )
        )
    return conversation


def ordered_sessions(store: TranscriptStore) -> list[SessionSummary]:
    """Every session, in order of creation (so the first of two duplicates is the older)."""
    return sorted(store.list_sessions(), key=lambda session: (session.created_at, session.id))
