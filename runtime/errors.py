"""Errors a user can cause, each with a message (what failed, the value) and a hint (what to do).

The CLI prints them as one line plus a hint and exits non-zero; the TUI shows them as notifications.
Anything that is not a `HearthError` is a bug and may raise with a traceback.
"""

from __future__ import annotations


class HearthError(Exception):
    """A failure the user can fix. `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(HearthError):
    """A command was called with arguments that cannot work."""

    exit_code = 2


class ConfigError(HearthError):
    """A settings file or value is invalid: names the file, the key and the value."""

    exit_code = 2


class DataHomeError(HearthError):
    """The data directory cannot be created, read or written."""


class NotFoundError(HearthError):
    """A named thing (companion, session, message, model) does not exist."""


class StoreError(HearthError):
    """The transcript database cannot be opened or is from an unknown version."""


class ModelError(HearthError):
    """A model file is missing, unreadable or not usable by llama.cpp."""


class DownloadError(HearthError):
    """An explicit model download failed (network, size or checksum)."""


class ConversionError(HearthError):
    """Converting or quantizing a model failed."""


class ImportFormatError(HearthError):
    """An export cannot be read: wrong format, truncated, unsafe archive, empty."""
