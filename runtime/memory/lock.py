"""One process at a time per companion memory.

Chroma's persistent client is not safe across processes (two writers corrupt its index), so
opening a companion's memory takes an exclusive lock on `companions/<slug>/memory.lock` for as
long as it is open. Within one process chromadb shares one client per directory, so opens are
counted and the OS lock is taken once. Without `fcntl` (Windows) there is no lock.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from runtime.memory.errors import MemoryIndexError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

WAIT_SECONDS = 2.0
"""How long to wait for another process to let go before giving up."""

_held: dict[Path, tuple[int, int]] = {}
_guard = threading.Lock()


def acquire(path: Path, companion: str) -> None:
    """Lock `path` for this process (counted); MemoryIndexError when another process has it."""
    with _guard:
        if path in _held:
            fd, count = _held[path]
            _held[path] = (fd, count + 1)
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + WAIT_SECONDS
        while fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise MemoryIndexError(
                        f"the memory of {companion} is in use by another Hearth process",
                        hint="close the other Hearth window or command (a chat, an import), "
                        "then try again",
                    ) from None
                time.sleep(0.05)
        _held[path] = (fd, 1)


def release(path: Path) -> None:
    """Undo one `acquire`; the last one unlocks."""
    with _guard:
        fd, count = _held.pop(path)
        if count > 1:
            _held[path] = (fd, count - 1)
            return
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
