"""From an importer's sessions to the store's rows: pack, prepare, and repair odd text.

`pack` is all a parser worker does to a session before sending it (plain tuples pickle several
times faster than dataclasses); `prepare` turns a session, packed or not, into store rows
(timestamps and metadata as text, duplicates dropped, missing times filled in); `new_rows`
keeps the rows a transcript does not hold yet. `scrub` repairs the one thing SQLite cannot
store: lone UTF-16 surrogates from broken JSON escapes. It runs only when a write failed on
one (see `ImportWriter`), so the common case pays nothing for it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from runtime.importers.base import ImportedSession
from runtime.store import TreeRow, format_timestamp, now_utc
from runtime.store.models import dump_metadata

PackedMessage = tuple[str, str | None, str, str, int | None, str | None, dict[str, Any]]
"""(source_id, parent_source_id, role, text, created_at in µs since 1970 or None, model,
metadata)"""
PackedSession = tuple[str, str, str | None, datetime | None, str | None, list[PackedMessage]]
"""(source, source_id, title, created_at, active_leaf_source_id, messages)"""

_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass
class PreparedSession:
    """A session with its messages as store rows (times and metadata as text)."""

    source: str
    source_id: str
    title: str | None
    created_at: datetime | None
    rows: list[TreeRow]
    active_leaf_source_id: str | None


def pack(session: ImportedSession) -> PackedSession:
    """The session as plain tuples, for sending to another process (times as integer
    microseconds: they pickle several times faster than datetimes, and formatting them as text
    is left to the writer's side, which has CPU time to spare)."""
    messages = [
        (
            m.source_id, m.parent_source_id, m.role, m.text,
            _micros(m.created_at) if m.created_at is not None else None, m.model, m.metadata,
        )
        for m in session.messages
    ]  # fmt: skip
    return (
        session.source, session.source_id, session.title, session.created_at,
        session.active_leaf_source_id, messages,
    )  # fmt: skip


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # importers must give aware times; never guess
    return (moment - _EPOCH) // _MICROSECOND


_MICROS_PER_DAY = 86_400_000_000


@functools.lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).date().isoformat()


def _stamp(micros: int) -> str:
    """`format_timestamp` of a time given in microseconds since 1970 (exact, no floats).

    Built from integer parts, with each day's date formatted once: an import stamps hundreds of
    thousands of messages, and this is about twice as fast as `datetime.isoformat`."""
    days, rest = divmod(micros, _MICROS_PER_DAY)
    if not -719_162 <= days <= 2_932_896:  # outside years 1-9999: datetime raises, as before
        return (_EPOCH + timedelta(microseconds=micros)).isoformat(timespec="microseconds")
    seconds, fraction = divmod(rest, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{_day(days)}T{hour:02}:{minute:02}:{second:02}.{fraction:06}+00:00"


def prepare(item: ImportedSession | PackedSession | PreparedSession) -> PreparedSession:
    """Store rows for every message (duplicates dropped), parents first.

    A message without a time takes its parent's (or the one before it, or the session's), so
    an import never stamps old messages with today's date. A parent that is not earlier in the
    session (a broken importer) makes the message a root.
    """
    if isinstance(item, PreparedSession):
        return item
    packed = pack(item) if isinstance(item, ImportedSession) else item
    source, source_id, title, created_at, leaf, messages = packed
    rows: list[TreeRow] = []
    stamps: dict[str, str] = {}
    previous = format_timestamp(created_at) if created_at is not None else None
    for message_id, parent, role, text, created, model, metadata in messages:
        if message_id in stamps:
            continue
        if parent is not None and parent not in stamps:
            parent = None
        if created is not None:
            stamp = _stamp(created)
        else:
            stamp = (stamps.get(parent) if parent else None) or previous or _now()
        stamps[message_id] = previous = stamp
        meta = dump_metadata(metadata) if metadata else "{}"
        rows.append((message_id, parent, role, text, stamp, model, meta))
    return PreparedSession(source, source_id, title, created_at, rows, leaf)


def _now() -> str:
    return format_timestamp(now_utc())


def new_rows(session: PreparedSession, known: Collection[str]) -> list[TreeRow]:
    """The rows not stored yet; one whose parent is neither stored nor new becomes a root."""
    if not known:
        return session.rows
    fresh: list[TreeRow] = []
    added: set[str] = set()
    for row in session.rows:
        source_id, parent = row[0], row[1]
        if source_id in known:
            continue
        if parent is not None and parent not in known and parent not in added:
            row = (source_id, None, *row[2:])  # type: ignore[assignment]
        added.add(source_id)  # type: ignore[arg-type]
        fresh.append(row)
    return fresh


def scrub(text: str) -> str:
    """Replace lone surrogates (a JSON escape like "\\ud83d" without its pair) with U+FFFD.

    They are not Unicode text and cannot be stored as UTF-8; everything else stays as it is.
    """
    if text.isascii():  # O(1)
        return text
    return _SURROGATES.sub("\ufffd", text)


def scrubbed(session: PreparedSession) -> PreparedSession:
    """The session with every text field scrubbed (after a write failed on a surrogate)."""
    rows: list[TreeRow] = [
        (
            scrub(sid) if sid else sid, scrub(parent) if parent else parent, role, scrub(text),
            stamp, scrub(model) if model else model, scrub(metadata),
        )
        for sid, parent, role, text, stamp, model, metadata in session.rows
    ]  # fmt: skip
    leaf = session.active_leaf_source_id
    return replace(
        session,
        source_id=scrub(session.source_id),
        title=scrub(session.title) if session.title else session.title,
        rows=rows,
        active_leaf_source_id=scrub(leaf) if leaf else leaf,
    )
