"""Character Card V1/V2/V3 (PNG, JSON, CHARX) → a persona update and lorebook memories.

Reading the card itself is `runtime.cards` (shared with `hearth companion new --card` and
`hearth companion card`); this importer turns the result into import items: the persona fields
(with the card's `extensions` and everything Persona has no field for kept, so the card can be
written out again unchanged) and one `lorebook` memory per enabled `character_book` entry.
A lorebook entry's memory text is `[key, key] content`: the keys are what the entry is about,
and keeping them in the text lets keyword search find the entry the way the lorebook would.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runtime import png
from runtime.cards import CardError, load_card, lorebook_entries, normalize_placeholders
from runtime.errors import ImportFormatError
from runtime.importers.base import (
    ImportedMemory,
    ImportItem,
    ImportOptions,
    PersonaUpdate,
    Progress,
)

_MAX_DETECT = 64 * 1024 * 1024  # a card is kilobytes to a few MB; don't slurp a huge file to guess
_CARD_KEYS = ("first_mes", "description", "personality", "mes_example", "scenario")


class CardImporter:
    """Reads one character card: `.png`, `.json`, `.charx`, or a folder holding `card.json`.

    Takes no options; unknown keyword options are ignored.
    """

    name = "card"

    def __init__(self, **_options: object) -> None:
        """Keyword options are accepted and ignored, so callers can pass the same ones to all."""
        self.options = ImportOptions()

    def detect(self, root: Path) -> bool:
        """True for a PNG, a card JSON, a CHARX zip or an unpacked CHARX."""
        try:
            if root.is_dir():
                card_json = root / "card.json"
                return card_json.is_file() and _is_card_object(_load_json(card_json))
            if not root.is_file() or root.stat().st_size > _MAX_DETECT:
                return False
            suffix = root.suffix.lower()
            if suffix == ".charx" or zipfile.is_zipfile(root):
                with zipfile.ZipFile(root) as archive:
                    return "card.json" in archive.namelist()
            head = root.read_bytes()
            if head.startswith(png.SIGNATURE):
                # Any PNG: no other export is one, and reading it says clearly when the card
                # chunk is missing (better than "not an export Hearth recognises").
                return True
            return suffix == ".json" and _is_card_object(json.loads(head.decode("utf-8-sig")))
        except (OSError, ValueError, UnicodeDecodeError, zipfile.BadZipFile, RecursionError):
            return False

    def read(self, root: Path, progress: Progress) -> Iterator[ImportItem]:
        """The persona update, then the lorebook memories."""
        try:
            persona = load_card(root)
        except CardError as exc:
            raise ImportFormatError(exc.message, hint=exc.hint) from exc
        size = _size(root)
        progress.bytes_total += size
        yield PersonaUpdate(fields=persona.model_dump(mode="json"))
        for entry in lorebook_entries(persona):
            memory = _lorebook_memory(entry)
            if memory is not None:
                yield memory
        progress.bytes_done += size


def _size(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


def _load_json(path: Path) -> Any:
    if path.stat().st_size > _MAX_DETECT:
        return None
    return json.loads(path.read_bytes().decode("utf-8-sig"))


def _is_card_object(value: Any) -> bool:
    """A V2/V3 card (by `spec`) or a V1 card (a name plus card fields, and nothing else's shape)."""
    if not isinstance(value, dict):
        return False
    spec = value.get("spec")
    if isinstance(spec, str) and spec.startswith("chara_card"):
        return True
    return isinstance(value.get("name"), str) and any(key in value for key in _CARD_KEYS)


def _lorebook_memory(entry: dict[str, Any]) -> ImportedMemory | None:
    """One lorebook entry as a memory; None when disabled or empty."""
    if entry.get("enabled") is False:
        return None  # switched off by the card's author: not part of the character
    content = entry.get("content")
    if not isinstance(content, str) or not content.strip():
        return None
    raw_keys = entry.get("keys")
    keys = (
        [str(k) for k in raw_keys if isinstance(k, str) and k.strip()]
        if isinstance(raw_keys, list)
        else []
    )
    text = normalize_placeholders(content.strip())
    if keys:
        text = f"[{', '.join(keys)}] {text}"
    # Entry ids are only unique within one card, so the id is the text's hash: re-importing the
    # card finds the same entries, and two cards with an entry 0 each do not collide.
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return ImportedMemory(kind="lorebook", text=text, source_id=f"lorebook:{digest}")
