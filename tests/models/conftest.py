"""Fixtures for the model tests (helpers live in model_testkit.py, importable by the tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.models.model_testkit import FileServer, chat_kv, gguf_bytes, make_handler


@pytest.fixture
def write_gguf() -> Callable[..., Path]:
    """write_gguf(path, kv, **options) → path, creating parent folders."""

    def write(path: Path, kv: list[tuple[str, int, Any]] | None = None, **options: Any) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gguf_bytes(chat_kv() if kv is None else kv, **options))
        return path

    return write


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    """A threaded HTTP server on 127.0.0.1 (tests using it need the allow_hosts marker)."""
    state = FileServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
