"""App-wide messages (toad's pattern): what screens tell the app, as documented dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class CompanionChanged(Message):
    """A companion was created, imported, edited or chosen: route to the right screen."""

    slug: str | None = None
    """The companion to show (None: keep the current one, or the first)."""
