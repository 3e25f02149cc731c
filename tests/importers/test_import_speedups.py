"""What makes big imports fast must not change what they store: deferred indexes, integer
timestamps, reading ahead."""

from __future__ import annotations

import io
import threading
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runtime.importers.base import ImportOptions, Progress
from runtime.importers.jsonstream import ReadAhead
from runtime.importers.rows import _stamp
from runtime.importers.worker import read_in_worker
from runtime.store import NewTreeMessage, TranscriptStore
from tests.fixtures.exports.chatgpt import bulk_conversations, write_export

T0 = datetime(2025, 2, 14, 20, 30, tzinfo=UTC)


def _schema(store: TranscriptStore) -> list[tuple[str, str]]:
    rows = store._db.all("SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
    return [tuple(row) for row in rows]


def test_a_fast_filled_store_ends_with_every_index_and_the_wal(tmp_path: Path) -> None:
    with TranscriptStore.open(tmp_path / "plain.sqlite") as plain:
        expected = _schema(plain)
    store = TranscriptStore.open(tmp_path / "fast.sqlite")
    store.fast_fill()
    assert len(_schema(store)) < len(expected)  # the message indexes wait for the end
    with store.transaction():
        session = store.create_session("t", source="chatgpt", source_id="c1")
        messages = [
            NewTreeMessage(role="user", text="hi", created_at=T0, source_id="q"),
            NewTreeMessage(role="assistant", text="hello", created_at=T0, source_id="a",
                           parent_source_id="q"),
        ]  # fmt: skip
        store.append_tree(session.id, messages)
        assert store.message_source_ids(session.id).keys() == {"q", "a"}
    store.make_durable()
    assert _schema(store) == expected
    assert store._db.one("PRAGMA journal_mode")[0] == "wal"
    assert [m.text for m in store.active_path(session.id)] == ["hi", "hello"]
    store.close()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 2, 29, 12, 0, 0, 5, tzinfo=UTC),
        T0,
    ],
)
def test_stamps_from_integer_microseconds_equal_isoformat(moment: datetime) -> None:
    micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert _stamp(micros) == moment.isoformat(timespec="microseconds")


def test_stamps_outside_the_calendar_still_fail() -> None:
    with pytest.raises(OverflowError):
        _stamp(253402300800000000)  # year 10000


def test_read_ahead_returns_at_least_what_is_asked_then_the_end() -> None:
    data = bytes(range(256)) * 1000
    with ReadAhead(io.BytesIO(data), chunk=1000) as ahead:
        first = ahead.read(2500)
        assert len(first) >= 2500
        rest = ahead.read(10**9)
        assert first + rest == data
        assert ahead.read(1) == b""


class _Broken(io.RawIOBase):
    def __init__(self) -> None:
        self.calls = 0

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise zlib.error("invalid stored block lengths")
        return b"x" * size


def test_read_ahead_raises_the_streams_error_where_it_happened() -> None:
    with ReadAhead(_Broken(), chunk=10) as ahead:  # type: ignore[arg-type]
        assert ahead.read(20) == b"x" * 20
        with pytest.raises(zlib.error, match="invalid stored block"):
            ahead.read(10)


def test_leaving_read_ahead_early_stops_its_thread() -> None:
    ahead = ReadAhead(io.BytesIO(b"y" * 10_000_000), chunk=1000)
    with ahead:
        ahead.read(10)
    assert not ahead._thread.is_alive()


def test_leaving_the_worker_early_stops_its_process_and_pipe_thread(tmp_path: Path) -> None:
    export = write_export(tmp_path / "e.zip", bulk_conversations(6, 4), shards=2)
    items = read_in_worker("chatgpt", ImportOptions(), export, None, Progress())
    assert next(items) is not None
    items.close()
    assert not [t for t in threading.enumerate() if t.name == "import-worker-pipe"]
