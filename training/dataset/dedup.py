"""Duplicates: the same exchange should be learned once, not many times.

Exports repeat themselves: the same greeting exchange opens hundreds of chats, a conversation
is imported from two exports, a chat was copied. Conversations are read oldest first and the
first occurrence of an exchange (user turn + reply, compared after folding case and spaces) is
trained on; later ones stay as context with weight 0. So a whole duplicated conversation yields
no second set of windows, and nothing trained on can come back in the eval split.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from training.dataset.clean import Exchange, FilterCounts

_SPACE = re.compile(r"\s+")


def exchange_key(user: str, reply: str) -> bytes:
    """A short digest of an exchange, the same for texts differing only in case and spacing."""
    digest = hashlib.blake2b(digest_size=16)
    for text in (user, reply):
        digest.update(_SPACE.sub(" ", text).strip().casefold().encode("utf-8"))
        digest.update(b"\x00")
    return digest.digest()


class Deduplicator:
    """Remembers which exchanges were already trained on, across conversations."""

    def __init__(self, counts: FilterCounts) -> None:
        self.counts = counts
        self._seen: set[bytes] = set()

    def __call__(self, exchanges: list[Exchange]) -> list[Exchange]:
        """`exchanges` with replies seen before (after the same user turn) made context."""
        out = []
        for exchange in exchanges:
            if exchange.reply.trained:
                key = exchange_key(exchange.user.text, exchange.reply.text)
                if key in self._seen:
                    self.counts.add("duplicates")
                    exchange = replace(exchange, reply=replace(exchange.reply, trained=False))
                else:
                    self._seen.add(key)
            out.append(exchange)
        return out
