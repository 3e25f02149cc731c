"""Claude.ai data export → sessions and memories.

The export (a zip, or the folder it unpacks to) holds `conversations.json` (an array of
conversations, each with a linear `chat_messages` list), `users.json`, `projects.json` and, in
newer exports, `memories.json`. `conversations.json` is streamed item by item.

A message's text is built from its `content` blocks of type `text` (and the transcript of
`voice_note` blocks): the top-level `text` of an assistant message can be the model's thinking
and its answer run together, so it is used only when a message has no content blocks at all.
Thinking, tool use and tool results are dropped (they are never part of the companion's voice).
Attachments and uploaded files become a placeholder `[attachment: name]`; the text extracted
from them is not put into the chat, where it would drown the conversation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from runtime.errors import ImportFormatError
from runtime.importers.archive import ArchiveImporter, ExportSource
from runtime.importers.base import (
    ImportedMemory,
    ImportedMessage,
    ImportedSession,
    ImportItem,
    ImportOptions,
    ImportWarning,
    Progress,
)
from runtime.importers.jsonstream import iter_items
from runtime.importers.timeparse import parse_time

CONVERSATIONS = "conversations.json"
_ROLES = {"human": "user", "user": "user", "assistant": "assistant"}
_MAX_SIDE_FILE = 64 * 1024 * 1024  # memories.json / projects.json are small; refuse a monster


class ClaudeImporter(ArchiveImporter):
    """Reads a Claude.ai export (zip, folder, or its conversations.json). Takes no options."""

    name = "claude"

    def __init__(self, **_options: object) -> None:
        """Keyword options are accepted and ignored, so callers can pass the same ones to all."""
        self.options = ImportOptions()

    def detect_source(self, source: ExportSource) -> bool:
        """`detect` for an opened export: the zip is read in place, never extracted."""
        member = _conversations_member(source)
        if member is None:
            return False
        try:
            first = next(iter_items(lambda: source.open_member(member), member), None)
        except ImportFormatError:
            return False
        if first is None:
            # An account with no conversations: users.json says it is Claude's, not ChatGPT's
            # (which writes `user.json`).
            return bool(source.find(r"users\.json"))
        return isinstance(first, dict) and "chat_messages" in first

    def read_source(self, source: ExportSource, progress: Progress) -> Iterator[ImportItem]:
        """`read` for an opened export."""
        member = _conversations_member(source)
        if member is None:
            raise ImportFormatError(
                f"{source.path}: no {CONVERSATIONS} in this Claude export",
                hint="pass the zip you downloaded from Claude, or the folder it unpacks to",
            )
        progress.bytes_total += source.size(member)
        projects = _side_file(source, "projects.json")
        if isinstance(projects, ImportWarning):
            yield projects
        names = {
            str(p.get("uuid")): str(p.get("name") or "")
            for p in (projects if isinstance(projects, list) else [])
            if isinstance(p, dict)
        }
        yield from _memories(_side_file(source, "memories.json"), names)

        def advance(count: int) -> None:
            progress.bytes_done += count

        stream = iter_items(lambda: source.open_member(member), member, on_read=advance)
        for index, conversation in enumerate(stream):
            yield from _conversation(conversation, index)
            progress.sessions += 1


def _conversations_member(source: ExportSource) -> str | None:
    if source.kind == "file":
        name = source.names()[0]
        return name if name.lower().endswith(".json") else None
    found = source.find(r"conversations\.json")
    return found[0] if found else None


def _side_file(source: ExportSource, name: str) -> Any:
    """A small JSON file of the export, or None when absent (an ImportWarning when unreadable)."""
    found = source.find(re.escape(name)) if source.kind != "file" else []
    if not found:
        return None
    if source.size(found[0]) > _MAX_SIDE_FILE:
        return ImportWarning(None, f"{name} is larger than {_MAX_SIDE_FILE} bytes; skipped")
    try:
        return json.loads(source.read_bytes(found[0]).decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return ImportWarning(None, f"{name} is not valid JSON; skipped")


def _memories(data: Any, project_names: dict[str, str]) -> Iterator[ImportItem]:
    """memories.json: `[{conversations_memory: md, project_memories: {project uuid: md}}]`."""
    if isinstance(data, ImportWarning):
        yield data
        return
    for entry in data if isinstance(data, list) else [data] if isinstance(data, dict) else []:
        if not isinstance(entry, dict):
            continue
        general = entry.get("conversations_memory")
        if isinstance(general, str) and general.strip():
            yield ImportedMemory("claude_memory", general.strip(), "conversations_memory")
        projects = entry.get("project_memories")
        for uuid, text in (projects if isinstance(projects, dict) else {}).items():
            if not isinstance(text, str) or not text.strip():
                continue
            label = project_names.get(str(uuid)) or str(uuid)
            yield ImportedMemory(
                "claude_memory", f"[project: {label}]\n{text.strip()}", f"project:{uuid}"
            )


def _conversation(conversation: Any, index: int) -> Iterator[ImportItem]:
    """One conversation → an ImportedSession (plus warnings for what was skipped)."""
    if not isinstance(conversation, dict):
        yield ImportWarning(None, f"item {index} of {CONVERSATIONS} is not a conversation; skipped")
        return
    source_id = str(conversation.get("uuid") or f"conversation-{index}")
    title = conversation.get("name") if isinstance(conversation.get("name"), str) else None
    label = f"{title or 'untitled'} ({source_id})"
    raw_messages = conversation.get("chat_messages")
    messages: list[ImportedMessage] = []
    seen: set[str] = set()
    unknown_senders = 0
    for position, raw in enumerate(raw_messages if isinstance(raw_messages, list) else []):
        if not isinstance(raw, dict):
            continue
        role = _ROLES.get(str(raw.get("sender", "")).lower())
        if role is None:
            unknown_senders += 1
            continue
        text, voice = _message_text(raw)
        if not text:
            continue  # only thinking / tool traffic: nothing the companion said
        message_id = str(raw.get("uuid") or f"{source_id}-{position}")
        if message_id in seen:  # malformed exports repeat ids; keep both messages
            message_id = f"{message_id}-{position}"
        seen.add(message_id)
        messages.append(
            ImportedMessage(
                source_id=message_id,
                parent_source_id=messages[-1].source_id if messages else None,
                role=role,  # type: ignore[arg-type]
                text=text,
                created_at=parse_time(raw.get("created_at")),
                metadata={"voice": True} if voice else {},
            )
        )
    if unknown_senders:
        yield ImportWarning(label, f"skipped {unknown_senders} message(s) with an unknown sender")
    if not messages:
        yield ImportWarning(label, "no messages; conversation skipped")
        return
    yield ImportedSession(
        source="claude",
        source_id=source_id,
        title=(title.strip() or None) if title else None,
        created_at=parse_time(conversation.get("created_at")) or messages[0].created_at,
        messages=messages,
    )


def _message_text(message: dict[str, Any]) -> tuple[str, bool]:
    """The text the user saw (see the module docstring) and whether it was a voice note."""
    blocks = message.get("content")
    parts: list[str] = []
    voice = False
    if isinstance(blocks, list) and blocks:
        for block in blocks:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif kind == "voice_note" and isinstance(block.get("text"), str):
                parts.append(block["text"])
                voice = True
            # thinking, tool_use, tool_result, token_budget, …: not part of the dialogue
    elif isinstance(message.get("text"), str):
        parts.append(message["text"])
    text = "\n\n".join(part.strip("\n") for part in parts if part.strip())
    placeholders = _attachment_placeholders(message)
    if placeholders:
        text = "\n\n".join(filter(None, [text, "\n".join(placeholders)]))
    return text.replace("\r\n", "\n"), voice


def _attachment_placeholders(message: dict[str, Any]) -> list[str]:
    """`[attachment: name]` for each attachment and uploaded file, each name once."""
    names: list[str] = []
    for key in ("attachments", "files"):
        items = message.get(key)
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            name = item.get("file_name") or item.get("name") or "file"
            if str(name) not in names:
                names.append(str(name))
    return [f"[attachment: {name}]" for name in names]
