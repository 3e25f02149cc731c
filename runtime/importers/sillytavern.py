"""SillyTavern chat files (`.jsonl`) → sessions, with swipes kept as alternative replies.

A chat file has one JSON object per line. The first is a header
`{user_name, character_name, create_date, chat_metadata}` (group chats have none); each other
line is a message `{name, is_user, is_system?, send_date, mes, extra, swipes?, swipe_id?,
swipe_info?}`. `swipes` are the alternative replies the user swiped through and `swipe_id` the
one they kept: every swipe becomes a sibling (same parent, in swipe order) and the kept one is on
the active path, so the conversation continues from it. `send_date` is a string
(`2024-05-01@12h30m10s`, `May 1, 2024 12:30pm`, …) or epoch milliseconds.

`is_system` messages (narration, messages hidden from the model) are kept with the role
`system`, so nothing the user saw is lost; the prompt and the dataset decide what to do with them.
A line that is not a JSON object is skipped with a warning naming its line number.

Message source ids are `L<line>` (or `L<line>s<swipe>` for a swipe), which are stable for the
same file; a session's id is the file name plus a hash of its first line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from runtime.errors import ImportFormatError
from runtime.importers.base import (
    ImportedMessage,
    ImportedSession,
    ImportItem,
    ImportOptions,
    ImportWarning,
    PersonaUpdate,
    Progress,
)
from runtime.importers.timeparse import parse_time

_SUFFIXES = (".jsonl", ".ndjson")
_MAX_DEPTH = 3  # SillyTavern's data folder: chats/<character>/<chat>.jsonl
_MAX_WARNINGS_PER_FILE = 20  # past this a broken file reports a count instead of every line


class SillyTavernImporter:
    """Reads one SillyTavern chat `.jsonl` or a folder of them (e.g. SillyTavern's `chats/`).

    Takes no options; unknown keyword options are ignored.
    """

    name = "sillytavern"

    def __init__(self, **_options: object) -> None:
        """Keyword options are accepted and ignored, so callers can pass the same ones to all."""
        self.options = ImportOptions()

    def detect(self, root: Path) -> bool:
        """True for a chat file (or a folder with one) whose first line looks like SillyTavern's."""
        return bool(self._chat_files(root, limit=1))

    def read(self, root: Path, progress: Progress) -> Iterator[ImportItem]:
        """Every chat file under `root` (or `root` itself), one session each."""
        files = [root] if root.is_file() else self._chat_files(root)
        if not files:
            raise ImportFormatError(
                f"{root}: no SillyTavern chat files (.jsonl) found",
                hint="pass a chat file from SillyTavern's data/<user>/chats/<character>/ folder",
            )
        progress.bytes_total += sum(_size(path) for path in files)
        persona_named = False
        for path in files:
            try:
                stream = path.open("rb")
            except OSError as exc:
                raise ImportFormatError(f"cannot read {path}: {exc.strerror}") from exc
            with stream:
                for item in read_chat(stream, path.name, progress):
                    if isinstance(item, PersonaUpdate):
                        if persona_named:  # the first chat names the companion
                            continue
                        persona_named = True
                    yield item

    def _chat_files(self, root: Path, limit: int | None = None) -> list[Path]:
        if root.is_file():
            return [root] if _looks_like_chat(root) else []
        if not root.is_dir():
            return []
        found: list[Path] = []
        for depth in range(_MAX_DEPTH + 1):
            for suffix in _SUFFIXES:
                pattern = "/".join(["*"] * depth + [f"*{suffix}"])
                found.extend(p for p in sorted(root.glob(pattern)) if _looks_like_chat(p))
                if limit is not None and len(found) >= limit:
                    return found[:limit]
        return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _first_object(path: Path) -> dict[str, Any] | None:
    """The first non-empty line of `path` as a JSON object, or None."""
    try:
        with path.open("rb") as stream:
            for raw in stream:
                if raw.strip():
                    value = json.loads(raw.decode("utf-8-sig"))
                    return value if isinstance(value, dict) else None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return None


def _is_header(obj: dict[str, Any]) -> bool:
    return "mes" not in obj and ("character_name" in obj or "chat_metadata" in obj)


def _is_message(obj: dict[str, Any]) -> bool:
    return "mes" in obj and ("is_user" in obj or "name" in obj)


def _looks_like_chat(path: Path) -> bool:
    if path.suffix.lower() not in _SUFFIXES or not path.is_file():
        return False
    first = _first_object(path)
    return first is not None and (_is_header(first) or _is_message(first))


def read_chat(stream: IO[bytes], source: str, progress: Progress) -> Iterator[ImportItem]:
    """Parse one chat file; `source` (its file name) names it in warnings and ids."""
    header: dict[str, Any] | None = None
    messages: list[ImportedMessage] = []
    active: str | None = None
    first_line: bytes | None = None
    skipped: list[int] = []
    for line_no, raw in enumerate(stream, start=1):
        progress.bytes_done += len(raw)
        if not raw.strip():
            continue
        obj = _parse_line(raw)
        if first_line is None:
            first_line = raw.strip()
            if isinstance(obj, dict) and _is_header(obj):
                header = obj
                continue
        if not isinstance(obj, dict) or not _is_message(obj):
            skipped.append(line_no)
            continue
        new = _message(obj, line_no, parent=active)
        if new is None:
            skipped.append(line_no)
            continue
        chosen, alternatives = new
        messages.extend(alternatives)
        active = chosen
    stem = source.rsplit(".", 1)[0]
    yield from _skip_warnings(stem, skipped)
    if header is None and not messages:
        raise ImportFormatError(
            f"{source}: not a SillyTavern chat (no header and no message lines)",
            hint="pass a chat .jsonl exported from SillyTavern, or choose another --format",
        )
    character = header.get("character_name") if header else None
    if isinstance(character, str) and character.strip():
        yield PersonaUpdate(fields={"name": character.strip()})
    if not messages:
        yield ImportWarning(stem, "no messages; chat skipped")
        return
    digest = hashlib.sha256(first_line or b"").hexdigest()[:12]
    created = parse_time(header.get("create_date")) if header else None
    progress.sessions += 1
    yield ImportedSession(
        source="sillytavern",
        source_id=f"{stem}#{digest}",
        title=stem,
        created_at=created or next((m.created_at for m in messages if m.created_at), None),
        messages=messages,
        active_leaf_source_id=active,
    )


def _parse_line(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _skip_warnings(stem: str, skipped: list[int]) -> Iterator[ImportWarning]:
    for line_no in skipped[:_MAX_WARNINGS_PER_FILE]:
        yield ImportWarning(stem, f"line {line_no} is not a chat message; skipped")
    if len(skipped) > _MAX_WARNINGS_PER_FILE:
        more = len(skipped) - _MAX_WARNINGS_PER_FILE
        yield ImportWarning(stem, f"{more} more unreadable lines skipped")


def _message(
    obj: dict[str, Any], line_no: int, parent: str | None
) -> tuple[str, list[ImportedMessage]] | None:
    """The kept message's id and all versions of this turn (swipes in order), or None."""
    text = obj.get("mes")
    if text is None:
        text = ""
    if not isinstance(text, str):
        return None
    if obj.get("is_system") is True:
        role = "system"
    elif obj.get("is_user") is True:
        role = "user"
    else:
        role = "assistant"
    metadata: dict[str, Any] = {}
    if isinstance(obj.get("name"), str) and obj["name"]:
        metadata["name"] = obj["name"]
    extra = obj.get("extra") if isinstance(obj.get("extra"), dict) else {}
    sent = parse_time(obj.get("send_date"))
    raw_swipes = obj.get("swipes") if isinstance(obj.get("swipes"), list) else []
    # Indices stay those of the file: swipe_id and swipe_info count every entry.
    swipes = {i: swipe for i, swipe in enumerate(raw_swipes) if isinstance(swipe, str)}
    if len(swipes) < 2:
        message_id = f"L{line_no}"
        only = ImportedMessage(
            source_id=message_id,
            parent_source_id=parent,
            role=role,  # type: ignore[arg-type]
            text=_clean(text),
            created_at=sent,
            model=_model(extra),
            metadata=metadata,
        )
        return message_id, [only]
    chosen = _chosen_swipe(obj.get("swipe_id"), swipes, text)
    infos = obj.get("swipe_info") if isinstance(obj.get("swipe_info"), list) else []
    versions: list[ImportedMessage] = []
    for index, swipe in swipes.items():
        info = infos[index] if index < len(infos) and isinstance(infos[index], dict) else {}
        info_extra = info.get("extra") if isinstance(info.get("extra"), dict) else {}
        is_chosen = index == chosen
        swiped_at = parse_time(info.get("send_date"))
        if not is_chosen and not swipe.strip():
            continue  # an empty swipe is a generation that failed or was stopped at once
        versions.append(
            ImportedMessage(
                source_id=f"L{line_no}s{index}",
                parent_source_id=parent,
                role=role,  # type: ignore[arg-type]
                # The kept text is `mes`: an edit in SillyTavern changes `mes` and the swipe.
                text=_clean(text if is_chosen else swipe),
                created_at=(sent if is_chosen else None) or swiped_at or sent,
                model=_model(extra if is_chosen else info_extra) or _model(info_extra),
                metadata=dict(metadata),
            )
        )
    return f"L{line_no}s{chosen}", versions


def _chosen_swipe(swipe_id: Any, swipes: dict[int, str], text: str) -> int:
    """The index of the kept swipe: `swipe_id` when valid, else the swipe equal to `mes`."""
    if isinstance(swipe_id, int) and not isinstance(swipe_id, bool) and swipe_id in swipes:
        return swipe_id
    for index, swipe in swipes.items():
        if swipe == text:
            return index
    return max(swipes)


def _model(extra: dict[str, Any]) -> str | None:
    model = extra.get("model")
    return model if isinstance(model, str) and model else None


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n")
