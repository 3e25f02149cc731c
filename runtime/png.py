"""Just enough PNG for character cards: read text chunks, add text chunks, make a plain image.

Character cards live in PNG text chunks, so Hearth reads and writes those with zlib and struct
alone (no imaging library): `text_chunks` finds named text chunks in any PNG, `with_text`
replaces them, and `gradient_png` draws a small image for a card that has no picture.
Reading never trusts the file: lengths are checked, compressed text is inflated with a size
cap, and a malformed chunk is skipped rather than raised.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_KINDS = (b"tEXt", b"zTXt", b"iTXt")
MAX_TEXT = 64 * 1024 * 1024
"""Largest inflated text chunk accepted (a card is kilobytes; this stops zip bombs)."""


class PngError(ValueError):
    """The bytes are not a PNG, or its chunk structure is broken before the wanted chunk."""


def chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, body) of each chunk up to IEND; PngError when the structure is broken."""
    if not data.startswith(SIGNATURE):
        raise PngError("not a PNG file")
    offset = len(SIGNATURE)
    while offset < len(data):
        if offset + 12 > len(data):
            raise PngError(f"truncated PNG (chunk header at byte {offset})")
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        end = offset + 12 + length
        if end > len(data):
            raise PngError(f"truncated PNG (chunk {kind!r} at byte {offset})")
        yield kind, data[offset + 8 : offset + 8 + length]
        offset = end
        if kind == b"IEND":
            return


def _inflate(compressed: bytes) -> bytes | None:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(compressed, MAX_TEXT)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else text


def _text_of(kind: bytes, body: bytes) -> tuple[str, bytes] | None:
    """(lower-case keyword, text bytes) of a text chunk, or None when it is malformed."""
    keyword, sep, rest = body.partition(b"\0")
    if not sep or not keyword:
        return None
    key = keyword.decode("latin-1").lower()
    if kind == b"tEXt":
        return key, rest
    if kind == b"zTXt":
        text = _inflate(rest[1:]) if rest else None
        return None if text is None else (key, text)
    # iTXt: compression flag, method, language tag \0, translated keyword \0, text
    if len(rest) < 2:
        return None
    compressed, tail = rest[0], rest[2:]
    parts = tail.split(b"\0", 2)
    if len(parts) < 3:
        return None
    text = _inflate(parts[2]) if compressed else parts[2]
    return None if text is None else (key, text)


def text_chunks(data: bytes, wanted: frozenset[str]) -> dict[str, bytes]:
    """Keyword → text of the text chunks named in `wanted` (lower case; first one wins).

    A truncated file still yields the chunks before the damage; PngError only for a non-PNG.
    """
    found: dict[str, bytes] = {}
    try:
        for kind, body in chunks(data):
            if kind in _TEXT_KINDS:
                parsed = _text_of(kind, body)
                if parsed is not None and parsed[0] in wanted:
                    found.setdefault(parsed[0], parsed[1])
    except PngError:
        if not data.startswith(SIGNATURE):
            raise
    return found


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def with_text(data: bytes, texts: dict[str, bytes]) -> bytes:
    """`data` (a PNG) with tEXt chunks `texts` (keyword → Latin-1 text), replacing same-named ones.

    The new chunks go right before IEND; every other chunk is copied unchanged.
    """
    replaced = {key.lower() for key in texts}
    out = [SIGNATURE]
    for kind, body in chunks(data):
        if kind in _TEXT_KINDS:
            parsed = _text_of(kind, body)
            if parsed is not None and parsed[0] in replaced:
                continue
        if kind == b"IEND":
            break
        out.append(_chunk(kind, body))
    for key, text in texts.items():
        out.append(_chunk(b"tEXt", key.encode("latin-1") + b"\0" + text))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def gradient_png(
    size: int = 256,
    top: tuple[int, int, int] = (64, 40, 90),
    bottom: tuple[int, int, int] = (235, 150, 90),
) -> bytes:
    """A `size`×`size` RGB PNG fading from `top` to `bottom` (an ember glow, by default)."""
    rows = []
    for y in range(size):
        t = y / max(size - 1, 1)
        pixel = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        rows.append(b"\0" + pixel * size)  # filter type 0 (None) for every scanline
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"".join(
        [
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)),
            _chunk(b"IEND", b""),
        ]
    )
