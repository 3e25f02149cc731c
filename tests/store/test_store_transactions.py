"""Transactions: all-or-nothing, nesting, threads, a second process, and a writer killed -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from runtime.errors import StoreError
from runtime.store import NewMessage, TranscriptStore, db

REPO_ROOT = Path(__file__).resolve().parents[2]
CRASH_WRITER = Path(__file__).with_name("crash_writer.py")


class Boom(Exception):
    pass


def count_from_outside(path: Path) -> int:
    """Messages another connection sees: only what has been committed."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        conn.close()


def uncommitted_wal_frames(path: Path) -> int:
    """Frames at the end of the WAL that no commit frame covers: half-written transactions."""
    wal = Path(f"{path}-wal").read_bytes()
    page_size = struct.unpack(">I", wal[8:12])[0]
    salt = wal[16:24]
    frames: list[int] = []  # per frame: the database size after commit, 0 when not a commit
    offset = 32
    while offset + 24 + page_size <= len(wal) and wal[offset + 8 : offset + 16] == salt:
        frames.append(struct.unpack(">I", wal[offset + 4 : offset + 8])[0])
        offset += 24 + page_size
    last_commit = max((i for i, size in enumerate(frames) if size), default=-1)
    return len(frames) - last_commit - 1


def test_an_exception_rolls_back_everything(store: TranscriptStore) -> None:
    session = store.create_session("kept")
    before = store.get_session(session.id)

    with pytest.raises(Boom), store.transaction():
        store.append(session.id, "user", "q")
        store.append(session.id, "assistant", "a")
        store.rename_session(session.id, "renamed")
        store.create_session("not kept")
        raise Boom

    assert store.messages(session.id) == []
    assert store.get_session(session.id) == before
    assert [s.title for s in store.list_sessions()] == ["kept"]
    store.append(session.id, "user", "the store still works")
    assert count_from_outside(store.path) == 1


def test_nested_transactions_join_the_outer_one(store: TranscriptStore) -> None:
    session = store.create_session()
    with store.transaction():
        store.append(session.id, "user", "outer")
        with store.transaction():
            store.append(session.id, "assistant", "inner")
        assert count_from_outside(store.path) == 0  # inner end does not commit
    assert count_from_outside(store.path) == 2


def test_a_failed_inner_block_undoes_only_itself(store: TranscriptStore) -> None:
    session = store.create_session()
    with store.transaction():
        kept = store.append(session.id, "user", "kept")
        with pytest.raises(Boom), store.transaction():
            store.append(session.id, "assistant", "dropped")
            raise Boom
        store.append(session.id, "assistant", "also kept", parent_id=kept.id)
    assert [m.text for m in store.messages(session.id)] == ["kept", "also kept"]
    assert [m.text for m in store.active_path(session.id)] == ["kept", "also kept"]


def test_an_outer_failure_undoes_a_finished_inner_block(store: TranscriptStore) -> None:
    session = store.create_session()
    with pytest.raises(Boom), store.transaction():
        with store.transaction():
            store.append_many(session.id, [NewMessage("user", "q"), NewMessage("assistant", "a")])
        raise Boom
    assert store.messages(session.id) == []
    assert store.get_session(session.id).active_leaf_id is None


def test_another_thread_can_write(store: TranscriptStore) -> None:
    # The TUI streams replies from a worker thread.
    session = store.create_session()
    reply = store.append(session.id, "assistant", "", partial=True)
    errors: list[BaseException] = []

    def stream() -> None:
        try:
            for n in range(1, 51):
                store.set_text(reply.id, "token " * n, partial=n < 50)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=stream)
    worker.start()
    for _ in range(50):
        store.active_path(session.id)
    worker.join()
    assert errors == []
    assert store.get_message(reply.id).text == "token " * 50
    assert store.get_message(reply.id).partial is False


def test_a_busy_store_says_so(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    with TranscriptStore.open(db_path) as first, TranscriptStore.open(db_path) as second:
        session = first.create_session()
        with first.transaction():
            first.append(session.id, "user", "holding the write lock")
            with pytest.raises(StoreError, match="is busy: another Hearth process"):
                second.append(session.id, "user", "blocked")
            assert second.active_path(session.id) == []  # readers are not blocked
        assert [m.text for m in second.active_path(session.id)] == ["holding the write lock"]


@pytest.mark.timeout(60)
def test_a_writer_killed_mid_transaction_leaves_every_commit(db_path: Path) -> None:
    batch = 10
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    writer = subprocess.Popen(
        [sys.executable, str(CRASH_WRITER), str(db_path), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert writer.stdout is not None
    committed = 0
    commits_seen = 0
    try:
        while True:
            line = writer.stdout.readline()
            assert line, f"writer stopped: {writer.stderr.read() if writer.stderr else ''}"
            if line.startswith("committed "):
                committed = int(line.split()[1])
                commits_seen += 1
            elif line.strip() == "writing" and commits_seen >= 3:
                # Half of a transaction is written and the writer sleeps before the rest.
                os.kill(writer.pid, signal.SIGKILL)
                break
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    # The writer's tiny page cache spilled part of the killed transaction into the WAL.
    assert uncommitted_wal_frames(db_path) > 0

    with TranscriptStore.open(db_path) as store:
        assert store._db.one("PRAGMA integrity_check")[0] == "ok"
        assert store._db.one("PRAGMA foreign_key_check") is None
        (session,) = store.list_sessions()
        messages = store.messages(session.id)
        assert committed == 3 * batch
        assert len(messages) == committed  # all commits, nothing of the killed transaction
        numbers = [int(m.text.split()[0]) for m in messages]
        assert numbers == list(range(committed))
        assert all(m.text.endswith("話" * 1500) for m in messages)
        path = store.active_path(session.id)
        assert [m.id for m in path] == [m.id for m in messages]
        # And it is writable again.
        store.append(session.id, "user", "after the crash")
