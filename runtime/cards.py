"""Character cards in and out: Character Card V1/V2/V3 as JSON, PNG or CHARX ↔ Persona.

Reading: a PNG card carries base64 JSON in a `tEXt` chunk named `chara` (V2) or `ccv3` (V3);
V3 wins when both are present. CHARX is a zip with `card.json`. Fields the persona has no slot
for (`character_book`, V3 `assets`, `nickname`, …) are kept under
`extensions["hearth_card_extra"]` and the card's own `extensions` are kept as they are, so
writing the card again loses nothing. Two changes are made on the way in, both invisible to card
tools: `null` values (and NaN/infinity) are dropped, because companion.toml is TOML, which has
no null, and for card readers a missing key and null mean the same; and the placeholders
`{{char}}`/`<BOT>` and `{{user}}`/`<USER>`, in any case, become `{{char}}` and `{{user}}`.
They stay placeholders in the persona, because the prompt fills in the names when it is built
(a renamed companion or user is then right everywhere).

Writing: `write_card` makes a V3 card with a V2 backfill. A PNG gets a `ccv3` chunk (V3) and a
`chara` chunk (V2, for tools that only read V2); JSON is the V3 object, whose `data` holds every
V2 field too. Without a picture, the PNG is a small generated gradient.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runtime import png
from runtime.companion import Persona
from runtime.errors import HearthError

CARD_FIELDS = tuple(name for name in Persona.model_fields if name != "extensions")
LIST_FIELDS = ("alternate_greetings", "tags")
PROMPT_FIELDS = ("description", "personality", "scenario", "first_mes", "mes_example",
                 "system_prompt", "post_history_instructions")  # fmt: skip
"""Fields that reach the model, where `{{char}}`/`{{user}}` placeholders are normalized."""
EXTRA_KEY = "hearth_card_extra"
"""Key under Persona.extensions holding card data fields that Persona has no slot for."""
_NOT_DATA = frozenset({"spec", "spec_version", "data"})  # envelope keys of a flat (V1) card
_MAX_CARD_JSON = 32 * 1024 * 1024
_CHAR = re.compile(r"\{\{\s*char\s*\}\}|<bot>", re.IGNORECASE)
_USER = re.compile(r"\{\{\s*user\s*\}\}|<user>", re.IGNORECASE)


class CardError(HearthError):
    """A character card cannot be read or written."""

    exit_code = 2


# --- reading --------------------------------------------------------------------------------


def normalize_placeholders(text: str) -> str:
    """`{{Char}}`, `<BOT>`, `{{ user }}`, `<user>` … → `{{char}}` / `{{user}}`."""
    return _USER.sub("{{user}}", _CHAR.sub("{{char}}", text))


def _is_null(value: Any) -> bool:
    # NaN and infinity (which Python's json accepts) have no JSON or TOML form either.
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _drop_nulls(v) for k, v in value.items() if not _is_null(v)}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value if not _is_null(v)]
    return value


def card_to_persona(card: dict[str, Any], source: str) -> Persona:
    """Map a V1 (flat), V2 or V3 (`data` object) card to a Persona; CardError if it is none."""
    flat = not isinstance(card.get("data"), dict)
    try:
        data = _drop_nulls(card if flat else card["data"])
    except RecursionError as exc:
        raise CardError(f"{source}: card JSON is nested too deeply") from exc
    name = data.get("name")
    if not isinstance(name, str | int | float) or not str(name).strip():
        raise CardError(f"{source}: not a character card (no name)", hint="check the file")
    fields: dict[str, Any] = {}
    for key in CARD_FIELDS:
        value = data.get(key)
        if value is None:
            continue
        if key in LIST_FIELDS:
            items = value if isinstance(value, list) else [value]
            fields[key] = [_text(item) for item in items if not isinstance(item, dict | list)]
        elif not isinstance(value, dict | list):
            fields[key] = _text(value)
    fields["name"] = str(name).strip()
    for key in PROMPT_FIELDS:
        if isinstance(fields.get(key), str):
            fields[key] = normalize_placeholders(fields[key])
    if "alternate_greetings" in fields:
        fields["alternate_greetings"] = list(
            map(normalize_placeholders, fields["alternate_greetings"])
        )
    raw_extensions = data.get("extensions")
    extensions = dict(raw_extensions) if isinstance(raw_extensions, dict) else {}
    # Keep what Persona has no field for (character_book, V3 assets, nicknames…) losslessly.
    extras = {
        key: value
        for key, value in data.items()
        if key not in fields  # a card field of the wrong type (a dict) is kept here too
        and key != "extensions"
        and not (flat and key in _NOT_DATA)
    }
    if extras.get("group_only_greetings") == []:
        del extras["group_only_greetings"]  # V3 requires it; empty means nothing to keep
    if extras:
        kept = extensions.get(EXTRA_KEY)
        extensions[EXTRA_KEY] = {**(kept if isinstance(kept, dict) else {}), **extras}
    try:
        return Persona(**fields, extensions=extensions)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise CardError(f"{source}: invalid card field '{where}': {problem['msg']}") from exc


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _json_card(raw: bytes, source: str) -> dict[str, Any]:
    try:
        card = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CardError(
            f"{source}: not a JSON or PNG character card ({str(exc)[:120]})", hint="check the file"
        ) from exc
    if not isinstance(card, dict):
        raise CardError(f"{source}: not a character card (top level is not an object)")
    return card


def _png_card(data: bytes, source: str) -> dict[str, Any]:
    try:
        texts = png.text_chunks(data, frozenset({"ccv3", "chara"}))
    except png.PngError as exc:
        raise CardError(f"{source}: {exc}", hint="export the card again") from exc
    payload = texts.get("ccv3") or texts.get("chara")
    if payload is None:
        raise CardError(
            f"{source}: PNG has no character card inside (no 'chara' or 'ccv3' text chunk)",
            hint="export the card again from the app that made it, as PNG or JSON",
        )
    stripped = payload.strip()
    if not stripped.startswith(b"{"):  # some writers store the JSON itself, not base64
        try:
            stripped = base64.b64decode(stripped + b"=" * (-len(stripped) % 4), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise CardError(f"{source}: the card chunk is not base64 JSON ({exc})") from exc
    return _json_card(stripped, f"{source} (card chunk)")


def _charx_card(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("card.json")
            if info.file_size > _MAX_CARD_JSON:
                raise CardError(f"{path}: card.json is too large ({info.file_size} bytes)")
            raw = archive.read(info)
    except KeyError as exc:
        raise CardError(f"{path}: CHARX without card.json", hint="check the file") from exc
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise CardError(f"{path}: unreadable CHARX zip ({exc})") from exc
    return _json_card(raw, f"{path} (card.json)")


def read_card(path: Path) -> dict[str, Any]:
    """The raw card object of a .png, .json or .charx file (or a folder holding card.json)."""
    if path.is_dir():
        path = path / "card.json"
    try:
        if zipfile.is_zipfile(path):
            return _charx_card(path)
        raw = path.read_bytes()
    except OSError as exc:
        raise CardError(f"cannot read card {path}: {exc.strerror or exc}") from exc
    if raw.startswith(png.SIGNATURE):
        return _png_card(raw, str(path))
    return _json_card(raw, str(path))


def load_card(path: Path) -> Persona:
    """Read a card file (.json, .png, .charx) into a Persona; CardError when it is not a card."""
    return card_to_persona(read_card(path), str(path))


def lorebook_entries(persona: Persona) -> list[dict[str, Any]]:
    """The `character_book` entries kept from the card (each a dict with keys and content)."""
    extra = persona.extensions.get(EXTRA_KEY)
    book = extra.get("character_book") if isinstance(extra, dict) else None
    entries = book.get("entries") if isinstance(book, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


# --- writing --------------------------------------------------------------------------------

V2_FIELDS = (*CARD_FIELDS, "character_book", "extensions")


def persona_to_card(persona: Persona, spec: str = "v3") -> dict[str, Any]:
    """The persona as a Character Card: `spec="v3"` (everything) or `"v2"` (V2 fields only)."""
    extensions = dict(persona.extensions)
    extra = extensions.pop(EXTRA_KEY, None)
    extra = dict(extra) if isinstance(extra, dict) else {}
    data: dict[str, Any] = persona.model_dump(mode="json", include=set(CARD_FIELDS))
    if spec == "v2":
        if "character_book" in extra:
            data["character_book"] = extra["character_book"]
        data["extensions"] = extensions
        return {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}
    data.update(extra)
    data["extensions"] = extensions
    data.setdefault("group_only_greetings", [])
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data}


def _b64_json(card: dict[str, Any]) -> bytes:
    text = json.dumps(card, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8"))


def card_bytes(persona: Persona, fmt: str, image: bytes | None = None) -> bytes:
    """The card file's bytes: `fmt` "png" (V3 `ccv3` + V2 `chara` chunks) or "json" (V3)."""
    if fmt == "json":
        text = json.dumps(persona_to_card(persona, "v3"), ensure_ascii=False, indent=2)
        return (text + "\n").encode("utf-8")
    picture = image if image is not None else png.gradient_png()
    texts = {
        "chara": _b64_json(persona_to_card(persona, "v2")),
        "ccv3": _b64_json(persona_to_card(persona, "v3")),
    }
    try:
        return png.with_text(picture, texts)
    except png.PngError as exc:
        raise CardError(f"the picture is not a usable PNG ({exc})", hint="pass a .png") from exc


def write_card(persona: Persona, path: Path, image: Path | None = None) -> str:
    """Write the card to `path` (.png or .json) atomically; returns the format written."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "json"):
        raise CardError(
            f"cannot write a card as '{path.suffix or path.name}'",
            hint="use --out NAME.png or --out NAME.json",
        )
    picture = None
    if image is not None:
        try:
            picture = image.read_bytes()
        except OSError as exc:
            raise CardError(f"cannot read picture {image}: {exc.strerror or exc}") from exc
    data = card_bytes(persona, fmt, picture)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)  # a card is made to be shared
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CardError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return fmt
