"""Gemini Apps activity from Google Takeout (`My Activity.json`) → sessions.

Takeout has no conversations for Gemini, only an activity log: an array, newest first, of
entries `{header: "Gemini Apps", title: "Prompted <prompt>", time, safeHtmlItem: [{html}],
attachedFiles?, subtitles?}`. Each entry with a prompt is one turn; the reply is HTML, turned
back into text. Several `safeHtmlItem`s are regenerations: they become sibling replies and the
first is taken as the one shown. Turns are grouped into a session until the gap to the next turn
is longer than 30 minutes, which is how people come and go in a chat app. Activity that is not a
prompt ("Used Gemini Apps", feedback) is skipped.

Session ids are `gemini:<time of its first turn>`, message ids derive from the turn's time, so
re-importing a later Takeout recognises the sessions it already has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from runtime.errors import ImportFormatError
from runtime.importers.archive import ArchiveImporter, ExportSource
from runtime.importers.base import (
    ImportedMessage,
    ImportedSession,
    ImportItem,
    ImportOptions,
    ImportWarning,
    Progress,
)
from runtime.importers.html_text import html_to_text
from runtime.importers.jsonstream import iter_items
from runtime.importers.timeparse import parse_time

SESSION_GAP = timedelta(minutes=30)
_ACTIVITY = r"My ?Activity\.json"
_PRODUCT_FOLDER = re.compile(r"(^|/)(Gemini[^/]*|Bard)/[^/]+$", re.IGNORECASE)
_PRODUCT_NAME = re.compile(r"\b(Gemini|Bard)\b")
_PROMPTED = "Prompted "
_TITLE_LENGTH = 80


class GeminiImporter(ArchiveImporter):
    """Reads Gemini Apps activity from a Takeout zip, folder, or `My Activity.json`.

    Options: `session_gap` (a timedelta; default 30 minutes) — a longer pause starts a new
    session. Other keyword options are ignored.
    """

    name = "gemini"

    def __init__(self, session_gap: timedelta = SESSION_GAP, **_options: object) -> None:
        """`session_gap`: the pause after which the next turn starts a new session."""
        self.session_gap = session_gap
        self.options = ImportOptions()

    def detect_source(self, source: ExportSource) -> bool:
        """`detect` for an opened export (a zip is read in place)."""
        return bool(_activity_files(source))

    def read_source(self, source: ExportSource, progress: Progress) -> Iterator[ImportItem]:
        """`read` for an opened export."""
        members = _activity_files(source)
        if not members:
            raise ImportFormatError(
                f"{source.path}: no Gemini Apps activity (My Activity.json) found",
                hint="in Google Takeout choose 'My Activity' → 'Gemini Apps' in JSON format",
            )
        progress.bytes_total += sum(source.size(member) for member in members)

        def advance(count: int) -> None:
            progress.bytes_done += count

        for member in members:
            turns: list[tuple[datetime, dict[str, Any]]] = []
            untimed = 0
            for entry in iter_items(
                lambda m=member: source.open_member(m), member, on_read=advance
            ):
                if not _is_turn(entry):
                    continue
                moment = parse_time(entry.get("time"))
                if moment is None:
                    untimed += 1
                    continue
                if turns and abs(turns[-1][0] - moment) > self.session_gap:
                    progress.sessions += 1
                    yield from _session(turns)
                    turns = []
                turns.append((moment, entry))
            if turns:
                progress.sessions += 1
                yield from _session(turns)
            if untimed:
                yield ImportWarning(member, f"skipped {untimed} prompt(s) without a time")


def _activity_files(source: ExportSource) -> list[str]:
    """Activity files whose first entry is Gemini's (Takeout has one per product)."""
    if source.kind == "file":
        candidates = [name for name in source.names() if name.lower().endswith(".json")]
    else:
        # Takeouts in other languages name the file differently; the product folder helps.
        candidates = source.find(_ACTIVITY) + sorted(
            name
            for name in source.names()
            if name.lower().endswith(".json") and _PRODUCT_FOLDER.search(name)
        )
        candidates = list(dict.fromkeys(candidates))
    found = []
    for member in candidates[:50]:
        try:
            first = next(iter_items(lambda m=member: source.open_member(m), member), None)
        except ImportFormatError:
            continue
        if isinstance(first, dict) and _is_gemini(first):
            found.append(member)
    return found


def _is_gemini(entry: dict[str, Any]) -> bool:
    """Gemini's activity: its header or product names Gemini (or Bard, its old name)."""
    products = entry.get("products")
    names = [entry.get("header"), *(products if isinstance(products, list) else [])]
    if any(isinstance(n, str) and _PRODUCT_NAME.search(n) for n in names):
        return True
    title = entry.get("title")
    return isinstance(title, str) and title.startswith(_PROMPTED) and "safeHtmlItem" in entry


def _is_turn(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    title = entry.get("title")
    return isinstance(title, str) and (title.startswith(_PROMPTED) or bool(_replies(entry)))


def _replies(entry: dict[str, Any]) -> list[str]:
    items = entry.get("safeHtmlItem")
    if not isinstance(items, list):
        return []
    texts = [html_to_text(i["html"]) for i in items if isinstance(i, dict) and _is_str(i, "html")]
    return [text for text in texts if text]


def _is_str(mapping: dict[str, Any], key: str) -> bool:
    return isinstance(mapping.get(key), str)


def _prompt(entry: dict[str, Any]) -> str:
    prompt = str(entry["title"]).removeprefix(_PROMPTED).strip()
    files = entry.get("attachedFiles")
    names = [str(f) for f in files if isinstance(f, str | int)] if isinstance(files, list) else []
    placeholders = "\n".join(f"[attachment: {name}]" for name in names)
    return "\n\n".join(part for part in (prompt, placeholders) if part)


def _session(turns: list[tuple[datetime, dict[str, Any]]]) -> Iterator[ImportItem]:
    """One session from its turns (given newest first, as the file has them)."""
    # Reverse, then a stable sort by time: oldest first even where the file is out of order.
    ordered = sorted(reversed(turns), key=lambda turn: turn[0])
    messages: list[ImportedMessage] = []
    parent: str | None = None
    used: set[str] = set()
    for moment, entry in ordered:
        stamp = moment.isoformat(timespec="microseconds")
        base = stamp if stamp not in used else f"{stamp}#{len(used)}"
        used.add(base)
        prompt_id = f"{base}/prompt"
        messages.append(ImportedMessage(prompt_id, parent, "user", _prompt(entry), moment))
        parent = prompt_id
        for index, reply in enumerate(_replies(entry)):
            reply_id = f"{base}/reply{index}"
            messages.append(ImportedMessage(reply_id, prompt_id, "assistant", reply, moment))
            if index == 0:
                parent = reply_id  # the first reply is the one the conversation went on from
    first_prompt = messages[0].text.splitlines()[0] if messages[0].text else ""
    title = first_prompt[:_TITLE_LENGTH].rstrip() + (
        "…" if len(first_prompt) > _TITLE_LENGTH else ""
    )
    yield ImportedSession(
        source="gemini",
        source_id=f"gemini:{ordered[0][0].isoformat(timespec='microseconds')}",
        title=title or None,
        created_at=ordered[0][0],
        messages=messages,
        active_leaf_source_id=parent,
    )
