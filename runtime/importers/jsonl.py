"""Hearth JSONL, our open interchange format: one message per line → sessions (trees).

    {"session": "trip", "id": "1", "role": "user", "text": "Where to?", "time": "2025-02-14T20:30Z"}
    {"session": "trip", "id": "2", "role": "assistant", "text": "The sea!", "name": "Mira"}

Fields: `session` (groups lines into sessions; lines of one session need not be adjacent),
`id` (unique within the session; `line-<number>` when absent), `role` (`user`, `assistant`,
`system`), `text`; optional `time` (ISO 8601, epoch seconds/milliseconds, or a date as people
write it: see `timeparse`), `name` (the speaker), `model`, `parent`, `active`, `title`,
`metadata` (an object kept with the message).

Threading: without a `parent` key a message follows the previous line of its session (so a
linear chat needs no ids at all); `"parent": null` starts a new root; `"parent": "<id>"` makes a
tree, in any line order. The active branch ends at the message marked `"active": true` (the last
one marked wins), else at the session's last line, followed down to a leaf through the
last-written child. The session's title is the first `title` seen. Unknown keys are ignored.
`hearth sessions export --format jsonl` writes exactly this (every branch, explicit parents,
`active` on the active leaf), so an export imports back as the same tree.

Messages keep their file order, except that a child written before its parent waits for it.
The file is read twice: the first pass only notes each session's last line, so the second pass
can hand each session over as soon as it is complete, and memory holds one session (plus those
interleaved with it), never the whole file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.errors import ImportFormatError
from runtime.importers.base import (
    ImportedMessage,
    ImportedSession,
    ImportItem,
    ImportOptions,
    ImportWarning,
    Progress,
)
from runtime.importers.timeparse import parse_time

SUFFIXES = (".jsonl", ".ndjson")
ROLES = ("user", "assistant", "system")
_MAX_WARNINGS = 20
_ABSENT = object()


class HearthJsonlImporter:
    """Reads a Hearth JSONL file, or a folder of them. Takes no options (others are ignored)."""

    name = "jsonl"

    def __init__(self, **_options: object) -> None:
        """Keyword options are accepted and ignored, so callers can pass the same ones to all."""
        self.options = ImportOptions()

    def detect(self, root: Path) -> bool:
        """True when a .jsonl file's first readable line has `session`, `role` and `text`."""
        return bool(_jsonl_files(root, limit=1))

    def read(self, root: Path, progress: Progress) -> Iterator[ImportItem]:
        """Each session as soon as its last line has been read."""
        # A file the user named is read whatever its first line; bad lines become warnings.
        files = [root] if root.is_file() else _jsonl_files(root)
        progress.bytes_total += sum(path.stat().st_size for path in files)
        found = False
        for path in files:
            for item in _read_file(path, progress):
                found = found or isinstance(item, ImportedSession)
                yield item
        if not found:
            raise ImportFormatError(
                f"{root}: not Hearth JSONL (no line with session, role and text)",
                hint="each line must be an object like "
                '{"session": "s1", "role": "user", "text": "hi"}',
            )


def _jsonl_files(root: Path, limit: int | None = None) -> list[Path]:
    if root.is_file():
        return [root] if _looks_like_jsonl(root) else []
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        if len(path.relative_to(root).parts) <= 3 and _looks_like_jsonl(path):
            found.append(path)
            if limit is not None and len(found) >= limit:
                break
    return found


def _looks_like_jsonl(path: Path) -> bool:
    if path.suffix.lower() not in SUFFIXES or not path.is_file():
        return False
    try:
        with path.open("rb") as stream:
            tried = 0
            for raw in stream:
                if not raw.strip():
                    continue
                line = _parse(raw)
                if isinstance(line, dict):  # a broken line or two before it is tolerated
                    return {"session", "role", "text"} <= line.keys()
                tried += 1
                if tried >= 5:
                    return False
    except OSError:
        return False
    return False


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    try:
        with path.open("rb") as stream:
            yield from enumerate(stream, start=1)
    except OSError as exc:
        raise ImportFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _session_key(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    key = obj.get("session")
    if isinstance(key, bool) or not isinstance(key, str | int) or str(key) == "":
        return None
    return str(key)


@dataclass
class _Pending:
    """A session being collected: its messages in file order and what the lines said."""

    messages: list[ImportedMessage] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    title: str | None = None
    active: str | None = None


def _read_file(path: Path, progress: Progress) -> Iterator[ImportItem]:
    last_line: dict[str, int] = {}
    for line_no, raw in _lines(path):
        key = _session_key(_parse(raw)) if raw.strip() else None
        if key is not None:
            last_line[key] = line_no
    pending: dict[str, _Pending] = {}
    warnings: list[str] = []
    unread_times: list[tuple[int, Any]] = []
    for line_no, raw in _lines(path):
        progress.bytes_done += len(raw)
        if not raw.strip():
            continue
        obj = _parse(raw)
        key = _session_key(obj)
        if key is None:
            warnings.append(f"line {line_no}: not a message object with a 'session'; skipped")
            continue
        session = pending.setdefault(key, _Pending())
        problem = _add_line(session, obj, line_no)
        if problem:
            warnings.append(f"line {line_no}: {problem}; skipped")
        elif obj.get("time") not in (None, "") and session.messages[-1].created_at is None:
            unread_times.append((line_no, obj["time"]))
        if last_line.get(key) == line_no:
            built = _build(key, pending.pop(key), warnings)
            if built is not None:
                progress.sessions += 1
                yield built
    if unread_times:  # one warning: a file usually writes every time the same way
        line_no, value = unread_times[0]
        warnings.insert(0, (
            f"{len(unread_times)} times could not be read (line {line_no}: {value!r}); those"
            " messages were kept without a time: write ISO 8601, e.g. 2025-02-14T20:30:00Z"
        ))  # fmt: skip
    for message in warnings[:_MAX_WARNINGS]:
        yield ImportWarning(path.name, message)
    if len(warnings) > _MAX_WARNINGS:
        yield ImportWarning(path.name, f"{len(warnings) - _MAX_WARNINGS} more problems")


def _add_line(session: _Pending, obj: dict[str, Any], line_no: int) -> str | None:
    """Append the message on this line to `session`; the reason when it cannot be used."""
    role = obj.get("role")
    if role not in ROLES:
        return f"role must be one of {', '.join(ROLES)}"
    text = obj.get("text")
    if not isinstance(text, str):
        return "'text' must be a string"
    raw_id = obj.get("id")
    valid_id = isinstance(raw_id, str | int) and not isinstance(raw_id, bool) and raw_id != ""
    message_id = str(raw_id) if valid_id else f"line-{line_no}"
    if message_id in session.ids:
        return f"id {message_id!r} is used twice in its session"
    session.ids.add(message_id)
    parent: Any = obj.get("parent", _ABSENT)
    if parent is _ABSENT:
        parent_id = session.messages[-1].source_id if session.messages else None
    elif parent is None or isinstance(parent, bool) or not isinstance(parent, str | int):
        parent_id = None
    else:
        parent_id = str(parent)
    metadata = dict(obj["metadata"]) if isinstance(obj.get("metadata"), dict) else {}
    if isinstance(obj.get("name"), str) and obj["name"]:
        metadata["name"] = obj["name"]
    model = obj.get("model") if isinstance(obj.get("model"), str) and obj["model"] else None
    session.messages.append(
        ImportedMessage(
            source_id=message_id,
            parent_source_id=parent_id,
            role=role,
            text=text.replace("\r\n", "\n"),
            created_at=parse_time(obj.get("time")),
            model=model,
            metadata=metadata,
        )
    )
    if session.title is None and isinstance(obj.get("title"), str) and obj["title"].strip():
        session.title = obj["title"].strip()
    if obj.get("active") is True:
        session.active = message_id
    return None


def _build(key: str, session: _Pending, warnings: list[str]) -> ImportedSession | None:
    """Order the messages parents-first and pick the active leaf; None when nothing is left."""
    by_id = {m.source_id: m for m in session.messages}
    children: dict[str | None, list[ImportedMessage]] = {}
    for message in session.messages:
        if message.parent_source_id is not None and message.parent_source_id not in by_id:
            warnings.append(
                f"session {key}: parent {message.parent_source_id!r} of message "
                f"{message.source_id!r} does not exist; the message starts a new branch"
            )
            message.parent_source_id = None
        children.setdefault(message.parent_source_id, []).append(message)
    ordered = _parents_first(session.messages)
    if len(ordered) < len(session.messages):
        lost = len(session.messages) - len(ordered)
        warnings.append(f"session {key}: {lost} message(s) in a parent cycle skipped")
    if not ordered:
        return None
    reachable = {m.source_id for m in ordered}
    leaf = session.active if session.active in reachable else None
    if leaf is None:
        leaf = next(m.source_id for m in reversed(session.messages) if m.source_id in reachable)
    while children.get(leaf):
        leaf = children[leaf][-1].source_id  # follow the last-written child down to a leaf
    times = [m.created_at for m in ordered if m.created_at is not None]
    return ImportedSession(
        source="jsonl",
        source_id=key,
        title=session.title,
        created_at=min(times) if times else None,
        messages=ordered,
        active_leaf_source_id=leaf,
    )


def _parents_first(messages: list[ImportedMessage]) -> list[ImportedMessage]:
    """File order, except that a message waits until its parent is placed (then follows it).

    A file already in parent-first order (any export of ours) keeps its order exactly, so ids
    and sibling order come back as they were. Messages left waiting are in a parent cycle.
    """
    placed: set[str] = set()
    waiting: dict[str, list[ImportedMessage]] = {}
    ordered: list[ImportedMessage] = []
    for message in messages:
        parent = message.parent_source_id
        if parent is not None and parent not in placed:
            waiting.setdefault(parent, []).append(message)
            continue
        release = [message]
        while release:  # iterative, so a long chain of late parents cannot overflow the stack
            current = release.pop()
            ordered.append(current)
            placed.add(current.source_id)
            release.extend(reversed(waiting.pop(current.source_id, [])))
    return ordered
