"""Character cards in, persona out: Character Card V1/V2/V3 as JSON or embedded in a PNG.

A PNG card carries base64 JSON in a `tEXt` chunk named `chara` (V2) or `ccv3` (V3); V3 wins
when both are present. Fields this persona does not know are kept under `extensions`, so
nothing from the card is lost.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import zlib
from pathlib import Path
from typing import Any

from runtime.companion import Persona
from runtime.errors import HearthError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CARD_FIELDS = tuple(name for name in Persona.model_fields if name != "extensions")


class CardError(HearthError):
    """A character card cannot be read."""

    exit_code = 2


def _png_text_chunks(data: bytes, source: str) -> dict[str, bytes]:
    """Keyword → text of every tEXt/zTXt/iTXt chunk (first occurrence wins)."""
    chunks: dict[str, bytes] = {}
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if len(body) < length:
            raise CardError(f"{source}: truncated PNG chunk", hint="re-export the card")
        offset += 12 + length
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, _, rest = body.partition(b"\0")
            key = keyword.decode("latin-1").lower()
            if kind == b"zTXt":
                rest = zlib.decompress(rest[1:])
            elif kind == b"iTXt":
                compressed, rest = rest[0], rest[2:]
                rest = rest.split(b"\0", 2)[2]  # skip language tag and translated keyword
                if compressed:
                    rest = zlib.decompress(rest)
            chunks.setdefault(key, rest)
        if kind == b"IEND":
            break
    return chunks


def _decode_png_card(data: bytes, source: str) -> dict[str, Any]:
    chunks = _png_text_chunks(data, source)
    payload = chunks.get("ccv3") or chunks.get("chara")
    if payload is None:
        raise CardError(
            f"{source}: PNG has no character card inside (no 'chara' or 'ccv3' text chunk)",
            hint="export the card again from the app that made it, as PNG or JSON",
        )
    try:
        return json.loads(base64.b64decode(payload, validate=False))
    except (binascii.Error, ValueError) as exc:
        raise CardError(f"{source}: the card chunk is not base64 JSON ({exc})") from exc


def card_to_persona(card: dict[str, Any], source: str) -> Persona:
    """Map a V1 (flat), V2 or V3 (`data` object) card to a Persona."""
    data = card.get("data") if isinstance(card.get("data"), dict) else card
    if not isinstance(data, dict) or not str(data.get("name", "")).strip():
        raise CardError(f"{source}: not a character card (no name)", hint="check the file")
    fields = {key: data[key] for key in CARD_FIELDS if key in data and data[key] is not None}
    extensions = dict(data.get("extensions") or {})
    # Keep what Persona has no field for (character_book, V3 assets, nicknames…) losslessly.
    extras = {k: v for k, v in data.items() if k not in CARD_FIELDS and k != "extensions"}
    if extras:
        extensions.setdefault("hearth_card_extra", {}).update(extras)
    for key in ("alternate_greetings", "tags"):
        if key in fields and not isinstance(fields[key], list):
            fields[key] = [str(fields[key])]
    fields = {k: v if k in ("alternate_greetings", "tags") else str(v) for k, v in fields.items()}
    return Persona(**fields, extensions=extensions)


def load_card(path: Path) -> Persona:
    """Read a card file (.json or .png) into a Persona; CardError when it is not a card."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CardError(f"cannot read card {path}: {exc.strerror}") from exc
    if raw.startswith(PNG_SIGNATURE):
        card = _decode_png_card(raw, str(path))
    else:
        try:
            card = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CardError(
                f"{path}: not a JSON or PNG character card ({exc})", hint="check the file"
            ) from exc
    if not isinstance(card, dict):
        raise CardError(f"{path}: not a character card (top level is not an object)")
    return card_to_persona(card, str(path))
