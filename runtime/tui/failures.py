"""How a failure reaches the person at the screen: a notification's text and title, never a
traceback (unexpected errors go to tui.log with theirs)."""

from __future__ import annotations

import logging

from runtime.errors import HearthError

logger = logging.getLogger("runtime.tui")


def describe(exc: BaseException) -> tuple[str, str]:
    """(message, title) for a notification; bugs get their type name, never a traceback."""
    if isinstance(exc, HearthError):
        return (exc.message + (f"\n{exc.hint}" if exc.hint else ""), "Hearth")
    logger.exception("unexpected error", exc_info=exc)
    return (f"{type(exc).__name__}: {exc}", "Unexpected error (details in tui.log)")
