"""Helpers for the model tests: a tiny GGUF writer and a loopback HTTP file server.

The writer follows the GGUF spec independently of the reader under test (struct by hand), so
a reader bug cannot be mirrored by a writer bug. The server supports Range requests and sends
Hugging Face's `X-Linked-Etag` on a redirect, like huggingface.co does for LFS files.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import struct
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

# GGUF value type ids (spec): the writer's own table.
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
_FORMATS = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?",
            U64: "Q", I64: "q", F64: "d"}


def _gguf_string(text: str | bytes, order: str) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack(order + "Q", len(data)) + data


def _gguf_value(vtype: int, value: Any, order: str) -> bytes:
    if vtype == STR:
        return _gguf_string(value, order)
    if vtype == ARR:
        item_type, items = value
        body = b"".join(_gguf_value(item_type, item, order) for item in items)
        return struct.pack(order + "IQ", item_type, len(items)) + body
    return struct.pack(order + _FORMATS[vtype], value)


def gguf_bytes(
    kv: list[tuple[str, int, Any]],
    *,
    version: int = 3,
    tensor_count: int = 0,
    order: str = "<",
    tail: bytes = b"\0" * 32,
) -> bytes:
    """A GGUF file: header + metadata `kv` as (key, type, value); arrays as (ARR, (type, items))."""
    out = [b"GGUF", struct.pack(order + "IQQ", version, tensor_count, len(kv))]
    for key, vtype, value in kv:
        out += [_gguf_string(key, order), struct.pack(order + "I", vtype),
                _gguf_value(vtype, value, order)]
    return b"".join(out) + tail


def chat_kv(arch: str = "llama", name: str = "Tiny Chat", file_type: int = 15) -> list:
    """Metadata of a typical chat model."""
    return [
        ("general.architecture", STR, arch),
        ("general.name", STR, name),
        ("general.file_type", U32, file_type),
        (f"{arch}.context_length", U32, 4096),
        ("tokenizer.chat_template", STR, "{% for m in messages %}{{ m.content }}{% endfor %}"),
    ]


@dataclass
class FileServer:
    """State of the loopback server: files by path, and every request's headers."""

    base_url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    linked_etag: dict[str, str] = field(default_factory=dict)
    ignore_range: bool = False
    cut_after: int | None = None
    """Announce the full length but close the connection after this many body bytes."""
    delay: float = 0.0
    """Seconds to wait before answering (to test timeouts)."""
    etag_on_files: bool = True
    """Also send the sha256 as the file's ETag (some mirrors do; huggingface.co does not)."""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def add(self, name: str, data: bytes, *, publish_sha: bool = True) -> str:
        """Serve `data` at /files/<name>; reachable also via /redirect/<name> (302)."""
        self.files[name] = data
        if publish_sha:
            self.linked_etag[name] = hashlib.sha256(data).hexdigest()
        return f"{self.base_url}/files/{name}"

    def range_headers(self) -> list[str]:
        return [h["Range"] for _, h in self.requests if "Range" in h]


def make_handler(state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers.items())))
            time.sleep(state.delay)
            kind, _, name = self.path.lstrip("/").partition("/")
            # Hugging Face's resolve/<revision>/<file> path maps onto a plain file name.
            name = re.sub(r"^.*/resolve/[^/]+/", "", name)
            if kind == "redirect" and name in state.files:
                self.send_response(302)
                self.send_header("Location", f"/files/{name}")
                self.send_header("X-Linked-Etag", f'"{state.linked_etag.get(name, "")}"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if name not in state.files:
                self.send_error(404)
                return
            data = state.files[name]
            match = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
            if match and not state.ignore_range:
                start = int(match.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                body = data[start:]
            else:
                self.send_response(200)
                body = data
            if state.etag_on_files and name in state.linked_etag:
                self.send_header("ETag", f'"{state.linked_etag[name]}"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if state.cut_after is not None:
                body, state.cut_after = body[: state.cut_after], None  # only the first request
                self.close_connection = True
            # The client may have given up already (timeout test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    return Handler
