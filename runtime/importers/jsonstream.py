"""Streaming the items of a big JSON array: one item in memory at a time, never the whole file.

Exports put every conversation in one top-level array of hundreds of MB; `json.load` would hold
all of it (several times its size as Python objects). `iter_items` yields the array's items one
by one instead. It accepts the shapes tools produce: a top-level array, an object wrapping the
array under a key (`{"conversations": [...]}`), and a lone object (one conversation), which is
yielded as the single item.

How: a sliding window of decoded text over the stream, and the standard library's C scanner
(`json.JSONDecoder.raw_decode`), which parses one value and says where it ended. An item cut by
the window's end is parsed again once more text is read (the window doubles, so a huge item
costs at most twice its size); at the end of the file that means the file is truncated.

Measured here (ChatGPT-shaped conversations, garbage collector off): ijson's yajl2_c `items`
and this window build items about equally fast (≈120–130 MB/s), but ijson tracks a prefix
string per nesting level, so its time and memory grow with the square of the depth — a file
nested 50,000 levels deep (100 KB of brackets) took 6 GB. The C scanner stops at Python's
recursion limit instead, reported as an ImportFormatError. orjson (installed with chromadb)
builds items only ≈1.3x faster on multilingual text, and finding item boundaries for it costs
more than that (it validates all the input it is given first, and reports character, not byte,
offsets): 85 against 100 MB/s in a prototype, so it is not used. Errors name the file and
roughly where it broke, without quoting its content (which is private).
"""

from __future__ import annotations

import codecs
import json
import queue
import re
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, Protocol

from runtime.errors import ImportFormatError

READ_SIZE = 1 << 20
"""Bytes read from the stream at a time (the window holds up to about 1.25 times this)."""
_NEAR_END = 8
"""An error this close to the window's end may just be a value cut in two: read more first."""
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(strict=False)  # strict=False: raw tabs/newlines inside strings

Opener = Callable[[], BinaryIO]


class Readable(Protocol):
    """Anything with a binary `read(size)`."""

    def read(self, size: int, /) -> bytes: ...


class CountingReader:
    """A binary stream wrapper that reports how many bytes were read (for progress bars)."""

    def __init__(self, stream: Readable, on_read: Callable[[int], None] | None = None) -> None:
        """Wrap `stream`; `on_read(n)` is called after every read of n > 0 bytes."""
        self._stream = stream
        self._on_read = on_read
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        """Read like the wrapped stream, counting the bytes."""
        data = self._stream.read(size)
        if data:
            self.consumed += len(data)
            if self._on_read is not None:
                self._on_read(len(data))
        return data


class ReadAhead:
    """Reads the next chunks of a stream in a thread while the caller parses the last one.

    Inflating a zip member and checking its CRC release the GIL, so on a second core they cost
    the parser nothing. Errors of the stream are raised by `read`, where they would have been.
    Use as a context manager inside the stream's own: leaving it stops the thread first.
    """

    AHEAD = 2

    def __init__(self, stream: BinaryIO, chunk: int = READ_SIZE) -> None:
        """Start reading `stream` in chunks of `chunk` bytes."""
        self._stream = stream
        self._chunk = chunk
        self._chunks: queue.Queue[bytes | BaseException] = queue.Queue(self.AHEAD)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name="json-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data: bytes | BaseException = self._stream.read(self._chunk)
            except Exception as exc:  # handed to the reader, raised there
                data = exc
            while not self._stop.is_set():
                try:
                    self._chunks.put(data, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not isinstance(data, bytes) or not data:
                return

    def read(self, size: int) -> bytes:
        """At least `size` bytes unless the stream ends first (b"" at its end)."""
        pieces: list[bytes] = []
        have = 0
        while have < size and not self._done:
            data = self._chunks.get()
            if isinstance(data, BaseException):
                self._done = True
                raise data
            if not data:
                self._done = True
                break
            pieces.append(data)
            have += len(data)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


class _Window:
    """Decoded text of the stream from the current position on, refilled on demand."""

    def __init__(self, reader: CountingReader, name: str) -> None:
        self.reader = reader
        self.name = name
        self.text = ""
        self.pos = 0
        self.eof = False
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()

    def fill(self, at_least: int = READ_SIZE) -> bool:
        """Drop what was consumed and append more text; False at the end of the stream."""
        if self.eof:
            return False
        try:
            data = self.reader.read(max(at_least, READ_SIZE))
            chunk = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise self.error("not UTF-8 text (invalid bytes near byte {offset})") from exc
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise self.error(f"cannot be read past byte {{offset}} ({exc})") from exc
        self.eof = not data
        self.text = self.text[self.pos :] + chunk
        self.pos = 0
        return bool(data)

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return ""

    def expect(self, chars: str) -> str:
        """Consume one of `chars` (after whitespace) and return it."""
        found = self.peek()
        if found == "" or found not in chars:
            if found == "":
                raise self.truncated()
            wanted = " or ".join(repr(c) for c in chars)
            raise self.error(f"not valid JSON near byte {{offset}} (expected {wanted})")
        self.pos += 1
        return found

    def value(self) -> Any:
        """Parse the next value, reading more text while it is cut by the window's end."""
        self.peek()
        if len(self.text) - self.pos < READ_SIZE // 4:
            self.fill()  # top up first: a failed attempt re-parses the value from its start
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.text) - _NEAR_END or exc.msg.startswith("Unterminated")
                if cut and self.fill(len(self.text) - self.pos):
                    continue
                if cut:
                    raise self.truncated() from None
                raise self.error(f"not valid JSON near byte {{offset}} ({exc.msg})") from None
            except RecursionError:
                raise self.error("nested too deeply near byte {offset}") from None
            if end >= len(self.text) and self.fill():
                continue  # a number at the window's end may go on: parse it again
            self.pos = end
            return value

    def error(self, template: str) -> ImportFormatError:
        """An error for this file; `{offset}` in `template` becomes the bytes read so far."""
        return ImportFormatError(
            f"{self.name}: " + template.format(offset=f"{self.reader.consumed:,}"),
            hint="check that this is the service's original export file, or export it again",
        )

    def truncated(self) -> ImportFormatError:
        """The error for a file that ends in the middle of a value."""
        return ImportFormatError(
            f"{self.name}: the file is cut off after {self.reader.consumed:,} bytes "
            "(truncated JSON)",
            hint="the download or unzip did not finish; download the export again",
        )


def _array_items(window: _Window) -> Iterator[Any]:
    """The items of the array whose "[" was just consumed, through its "]"."""
    if window.peek() == "]":
        window.pos += 1
        return
    while True:
        yield window.value()
        if window.expect(",]") == "]":
            return


def iter_items(
    open_stream: Opener,
    name: str,
    *,
    wrapper_key: str = "conversations",
    on_read: Callable[[int], None] | None = None,
) -> Iterator[Any]:
    """Yield the items of the JSON array in the stream `open_stream()` returns.

    A top-level object yields the items of its `wrapper_key` array, or itself when it has no
    such key. `on_read(n)` reports bytes read. Raises ImportFormatError for an empty, truncated,
    deeply nested or otherwise invalid file, or one that is not UTF-8.
    """
    with open_stream() as stream, ReadAhead(stream) as ahead:
        window = _Window(CountingReader(ahead, on_read), name)
        first = window.peek()
        if first == "":
            raise ImportFormatError(f"{name} is empty", hint="export the data again")
        if first == "[":
            window.pos += 1
            yield from _array_items(window)
        elif first == "{":
            window.pos += 1
            yield from _object_items(window, wrapper_key)
        else:
            raise window.error("not a JSON array or object")
        if window.peek() != "":
            raise window.error("not valid JSON near byte {offset} (extra data after the end)")


def _object_items(window: _Window, wrapper_key: str) -> Iterator[Any]:
    """A top-level object: stream `wrapper_key`'s items, or yield the object itself."""
    other: dict[str, Any] = {}
    found = False
    if window.peek() == "}":
        window.pos += 1
    else:
        while True:
            if window.peek() != '"':
                raise window.error("not valid JSON near byte {offset} (expected a key)")
            key = window.value()
            window.expect(":")
            if key == wrapper_key and window.peek() == "[":
                window.pos += 1
                found = True
                yield from _array_items(window)
            else:
                other[key] = window.value()
            if window.expect(",}") == "}":
                break
    if not found:
        yield other
