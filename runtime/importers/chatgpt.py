"""The ChatGPT data export (Settings → Data controls → Export): every conversation, all branches.

Layouts: `conversations.json` (an array, or `{"conversations": [...]}`), or since 2026 shards
`conversations-000.json`, `conversations-001.json`, … — in a zip, an unzipped folder, or a single
JSON file. Conversations are streamed one at a time straight out of the zip (see `jsonstream`);
each becomes a session through `chatgpt_tree.convert`. Besides sessions this yields:
- `message_feedback.json` ratings, attached to their messages' metadata ("feedback"),
- the newest custom instructions: about the model → persona `personality`, about the user →
  core memory "user" (one `PersonaUpdate`, after all conversations),
- saved memory (the `model_editable_context` snapshots and `bio` tool writes) → one
  `ImportedMemory` per fact, de-duplicated by its normalized text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

from runtime.errors import ImportFormatError
from runtime.importers.archive import ArchiveImporter, ExportSource
from runtime.importers.base import (
    ImportedMemory,
    ImportItem,
    ImportOptions,
    ImportWarning,
    PersonaUpdate,
    Progress,
)
from runtime.importers.chatgpt_content import Classified
from runtime.importers.chatgpt_tree import convert
from runtime.importers.jsonstream import iter_items

CONVERSATION_FILES = r"conversations(-\d+)?\.json"
FEEDBACK_FILE = "message_feedback.json"
PEEK_BYTES = 1 << 16
# Files only a ChatGPT export has (Claude's export has users.json, projects.json).
_MARKERS = ("chat.html", FEEDBACK_FILE, "model_comparisons.json", "user.json")
_NAME_PATTERNS = (
    re.compile(r"\b(?i:your name is|you are called|call yourself|you're called|you are)\s+"
               r"[\"'“]?([A-Z][\w'’-]{1,39})\b"),
    re.compile(r"你(?:叫|的名字(?:是|叫))\s*[「“\"]?([\w·]{1,12}?)[」”\"]?(?:[，。,.!！\s]|$)"),
    re.compile(r"(?:너의|당신의|네)\s*이름은\s*([\w]{1,12}?)(?:이야|야|입니다|이에요|예요|[.,!\s]|$)"),
)  # fmt: skip
_NOT_NAMES = frozenset({"A", "An", "The", "My", "Our", "Not", "Very", "ChatGPT", "GPT", "AI"})


def _shard_key(name: str) -> tuple[int, str]:
    """Shards in numeric order (conversations-2 before conversations-10); plain file first."""
    number = re.search(r"-(\d+)\.json$", name)
    return (int(number.group(1)) if number else -1, name)


def conversation_files(source: ExportSource) -> list[str]:
    """The files holding conversations: every shard, or the single file the user gave."""
    if source.kind == "file":
        return source.names()
    return sorted(source.find(CONVERSATION_FILES), key=_shard_key)


def guess_name(about_model: str) -> str | None:
    """The companion's name when custom instructions give one ("Your name is Mira")."""
    for pattern in _NAME_PATTERNS:
        found = pattern.search(about_model)
        if found and found.group(1) not in _NOT_NAMES:
            return found.group(1).strip("'’-")
    return None


def memory_key(text: str) -> str:
    """A saved fact's source id: the same fact written twice (snapshot, `bio`) is one memory."""
    normalized = " ".join(text.split()).casefold()
    digest = hashlib.sha1(normalized.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"saved-{digest}"


class ChatGPTImporter(ArchiveImporter):
    """Reads a ChatGPT export from a zip, a folder or one JSON file, streaming."""

    name = "chatgpt"

    def __init__(self) -> None:
        """The pipeline sets `options` afterwards; this importer needs none."""
        self.options = ImportOptions()

    def detect_source(self, source: ExportSource) -> bool:
        """Conversation files whose first bytes show a ChatGPT `mapping` (not Claude's)."""
        files = conversation_files(source)
        if not files:
            return False
        try:
            head = source.read_bytes(files[0], PEEK_BYTES)
        except ImportFormatError:
            return False
        if b'"mapping"' in head:
            return True
        if b'"chat_messages"' in head or source.kind == "file":
            return False
        # An export with no conversations yet (`[]`): recognise it by its other files.
        names = {name.rsplit("/", 1)[-1] for name in source.names()}
        return any(marker in names for marker in _MARKERS)

    def read_source(self, source: ExportSource, progress: Progress) -> Iterator[ImportItem]:
        """Yield sessions, memories, one persona update and warnings, one conversation at a time.

        Raises ImportFormatError for a file that is not valid JSON and for an export without
        any conversation.
        """
        files = conversation_files(source)
        if not files:
            raise ImportFormatError(
                f"{source.path}: no conversations.json or conversations-NNN.json in this export",
                hint="give the zip ChatGPT sent you, or the folder you unzipped it into",
            )
        progress.bytes_total += sum(source.size(name) for name in files)
        feedback, warnings = _load_feedback(source)
        yield from warnings
        custom: Classified | None = None
        custom_time = None
        seen_facts: set[str] = set()
        conversations = 0

        def advance(count: int) -> None:
            progress.bytes_done += count

        for name in files:
            items = iter_items(lambda name=name: source.open_member(name), name, on_read=advance)
            for index, conversation in enumerate(items):
                conversations += 1
                converted = convert(conversation, index, feedback)
                progress.sessions += 1
                yield from converted.warnings
                if converted.custom is not None and (
                    custom is None
                    or (converted.time and (custom_time is None or converted.time >= custom_time))
                ):
                    custom, custom_time = converted.custom, converted.time
                for text, when in converted.facts:
                    key = memory_key(text)
                    if key not in seen_facts:
                        seen_facts.add(key)
                        yield ImportedMemory("saved_memory", text, key, when or converted.time)
                if converted.session is not None:
                    yield converted.session
        if conversations == 0:
            raise ImportFormatError(
                f"{source.path}: the export holds no conversations",
                hint="check that this is the right export; ChatGPT exports list every chat",
            )
        if custom is not None:
            yield _persona_update(custom)


def _persona_update(custom: Classified) -> PersonaUpdate:
    fields: dict[str, Any] = {}
    if custom.about_model:
        fields["personality"] = custom.about_model
        name = guess_name(custom.about_model)
        if name:
            fields["name"] = name
    core = {"user": custom.about_user} if custom.about_user else {}
    return PersonaUpdate(fields=fields, core_memories=core)


_RATINGS = {
    "thumbsup": "thumbs_up", "thumbs_up": "thumbs_up", "up": "thumbs_up", "1": "thumbs_up",
    "positive": "thumbs_up", "thumbsdown": "thumbs_down", "thumbs_down": "thumbs_down",
    "down": "thumbs_down", "-1": "thumbs_down", "negative": "thumbs_down",
}  # fmt: skip


def _feedback_entry(entry: Any) -> tuple[str, dict[str, Any]] | None:
    """One message_feedback.json entry → (message id, metadata to attach), or None."""
    if not isinstance(entry, dict):
        return None
    message_id = entry.get("message_id") or entry.get("messageId") or entry.get("id")
    rating = _RATINGS.get(str(entry.get("rating")).replace(" ", "").lower())
    if not isinstance(message_id, str) or rating is None:
        return None
    metadata: dict[str, Any] = {"feedback": rating}
    content = entry.get("content")
    if isinstance(content, str) and content.startswith("{"):
        try:
            content = json.loads(content)
        except ValueError:
            content = None
    if isinstance(content, dict):
        if isinstance(content.get("text"), str) and content["text"]:
            metadata["feedback_text"] = content["text"]
        tags = content.get("tags")
        if isinstance(tags, list) and tags:
            metadata["feedback_tags"] = [str(tag) for tag in tags]
    return message_id, metadata


def _load_feedback(source: ExportSource) -> tuple[dict[str, dict[str, Any]], list[ImportWarning]]:
    """Message id → feedback metadata from message_feedback.json (a broken file: a warning)."""
    found = source.find(re.escape(FEEDBACK_FILE)) if source.kind != "file" else []
    if not found:
        return {}, []
    feedback: dict[str, dict[str, Any]] = {}
    try:
        for entry in iter_items(lambda: source.open_member(found[0]), found[0]):
            parsed = _feedback_entry(entry)
            if parsed is not None:
                feedback[parsed[0]] = parsed[1]
    except ImportFormatError as exc:
        return feedback, [ImportWarning(None, f"{FEEDBACK_FILE} skipped: {exc.message}")]
    return feedback, []
