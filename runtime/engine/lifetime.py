"""When a loaded model may be freed: only after every thread using it has let go.

llama.cpp frees a model's memory at once; a thread still tokenizing or decoding with it then
reads freed memory and takes the process down (a quit while the chat was still opening did
that). So every native call goes through `Lifetime.using()`, and `Lifetime.close()` waits for
those in flight; a generation also watches `closing` so a close stops it within one token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from runtime.engine.errors import ModelClosedError

logger = logging.getLogger(__name__)

WAIT_SECONDS = 120.0
"""How long a close waits for users: a prompt being evaluated only sees `closing` after its
first token. Past this the model is left unfreed (the process is usually exiting) rather than
freed under a running thread."""


class Lifetime:
    """Counts the threads using a model; `close` frees it when the last one is done."""

    def __init__(self) -> None:
        self.closing = threading.Event()
        """Set when closing began: generations stop at their next token."""
        self._users = 0
        self._idle = threading.Condition()
        self._closed = False

    @contextmanager
    def using(self) -> Iterator[None]:
        """Hold the model for a native call; ModelClosedError once closing began."""
        with self._idle:
            if self.closing.is_set():
                raise ModelClosedError(
                    "the model was closed while it was still in use",
                    hint="open the chat again (it closes when Hearth quits or changes model)",
                )
            self._users += 1
        try:
            yield
        finally:
            with self._idle:
                self._users -= 1
                self._idle.notify_all()

    def close(self, free: Callable[[], None]) -> None:
        """Refuse new users, wait for those in flight, then `free` (once, however often called)."""
        with self._idle:
            self.closing.set()
            if not self._idle.wait_for(lambda: self._users == 0, timeout=WAIT_SECONDS):
                logger.warning("a model still in use after %.0f s was left unfreed", WAIT_SECONDS)
                return
            if self._closed:
                return
            self._closed = True
        free()
