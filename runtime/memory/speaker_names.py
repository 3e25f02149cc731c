"""Who asks and who is asked: the names the transcript knows the user and the companion by.

A query is the user's, said to the companion, and is embedded in the third person as messages
are (see `person`): "what did I tell you about my sister?" should meet "Sam: ... Sam's sister".
Imports often name their speakers (a SillyTavern persona, a character whose name is not the
companion's); when one name carries nearly all of a role's named messages, queries use it,
otherwise the defaults (the user's default name, the companion's). A transcript that merges
several people's conversations names no one person and keeps the defaults.
"""

from __future__ import annotations

from collections import Counter

from runtime.memory.turns import Speakers
from runtime.store.reader import StoreReader

DOMINANT_SHARE = 0.9
"""The share of a role's named messages one name must carry to stand for that role."""


class KnownSpeakers:
    """The speakers' names as the transcript has them, counted incrementally (message ids only
    grow, so each call reads only the messages added since the last; after a deletion the
    memory service calls `recount`)."""

    def __init__(self, store: StoreReader, defaults: Speakers) -> None:
        self.store = store
        self.defaults = defaults
        self._counts: dict[str, Counter[str]] = {"user": Counter(), "assistant": Counter()}
        self._last_id = 0

    def recount(self) -> None:
        """Count again from the start at the next `current` (messages were deleted: counts
        only ever grow otherwise)."""
        self._counts = {"user": Counter(), "assistant": Counter()}
        self._last_id = 0

    def current(self) -> Speakers:
        """Who asks (`user`) and who is asked (`companion`), as of now."""
        self._last_id, rows = self.store.speaker_names(self._last_id)
        for role, name, count in rows:
            name = name.strip()  # as `Speakers.of` takes it
            if role in self._counts and name:
                self._counts[role][name] += count
        return Speakers(
            user=self._dominant("user", self.defaults.user),
            companion=self._dominant("assistant", self.defaults.companion),
        )

    def _dominant(self, role: str, default: str) -> str:
        counts = self._counts[role]
        if not counts:
            return default
        ((name, most),) = counts.most_common(1)
        return name if most >= DOMINANT_SHARE * counts.total() else default
