"""Conversations out again: a session as Hearth JSONL (every branch) or markdown (to read).

JSONL is the lossless one: one line per message in creation order, each naming its `parent`
explicitly (null for a root) and the active leaf marked `"active": true`, in exactly the format
`runtime.importers.jsonl` reads, so exporting and importing gives back the same tree. The
session key is the session's source id (or `hearth-<id>` for chats made in Hearth) so that
re-exporting an imported session keeps its key; message ids are the store's ids, which are
unique, so a message made here can never collide with one imported from elsewhere.

Markdown is the active branch as `**Speaker:** text` paragraphs under a `# Title`, which reads
well anywhere and imports back with the text importer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from runtime.store import Message, Session, format_timestamp


def session_key(session: Session) -> str:
    """The `session` value of a session's JSONL lines."""
    return session.source_id or f"hearth-{session.id}"


def jsonl_records(session: Session, messages: list[Message]) -> Iterator[dict[str, Any]]:
    """One Hearth JSONL object per message (all branches, parents before children)."""
    key = session_key(session)
    for index, message in enumerate(messages):
        record: dict[str, Any] = {
            "session": key,
            "id": str(message.id),
            "parent": None if message.parent_id is None else str(message.parent_id),
            "role": message.role,
            "text": message.text,
            "time": format_timestamp(message.created_at),
        }
        if message.model:
            record["model"] = message.model
        metadata = dict(message.metadata)
        name = metadata.pop("name", None)
        if isinstance(name, str) and name:
            record["name"] = name
        if metadata:
            record["metadata"] = metadata
        if index == 0 and session.title:
            record["title"] = session.title
        if message.id == session.active_leaf_id:
            record["active"] = True
        yield record


def jsonl_lines(session: Session, messages: list[Message]) -> Iterator[str]:
    """The session as JSONL text lines (each ending in a newline), non-ASCII kept readable."""
    for record in jsonl_records(session, messages):
        yield json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n"


def markdown_lines(session: Session, path: list[Message], companion_name: str) -> Iterator[str]:
    """The active branch as markdown text lines (each ending in a newline)."""
    yield f"# {session.title or '(untitled)'}\n"
    when = format_timestamp(session.created_at)[:16].replace("T", " ")
    yield f"\n_Session {session.id} · {session.source} · {when} UTC_\n"
    for message in path:
        yield f"\n**{_speaker(message, companion_name)}:** {message.text.strip()}\n"


def _speaker(message: Message, companion_name: str) -> str:
    name = message.metadata.get("name")
    if isinstance(name, str) and name.strip() and "*" not in name and ":" not in name:
        return name.strip()
    if message.role == "assistant":
        return companion_name
    return "System" if message.role == "system" else "User"
