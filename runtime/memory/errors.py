"""Errors of long-term memory, each with a hint that says what to run."""

from __future__ import annotations

from runtime.errors import HearthError

REBUILD_HINT = "rebuild it from the transcript with `hearth memory rebuild`"


class EmbeddingModelError(HearthError):
    """The embedding model is missing, corrupt or of a kind Hearth cannot run."""


class MemoryIndexError(HearthError):
    """The memory directory cannot be used as it is (other version, other model, damaged)."""
