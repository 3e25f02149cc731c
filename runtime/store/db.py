"""Opening a transcript database file: private file mode, pragmas, schema check, clear errors.

Settings and why:
- WAL journal: readers (the TUI, `hearth sessions list`) never block the writer, and a writer
  killed mid-transaction leaves uncommitted frames that the next open simply ignores.
- `synchronous=NORMAL`: with WAL a crash of the process never loses a commit; a power cut can
  lose the last few commits but never corrupts the file. Full fsync per streamed token is not
  worth it.
- `foreign_keys=ON`: SQLite leaves it off per connection; the tree relies on it.
- `busy_timeout`: a second Hearth process waits for the write lock instead of failing at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from runtime.errors import StoreError
from runtime.store.migrations import check_not_newer, migrate

log = logging.getLogger(__name__)

FILE_MODE = 0o600
BUSY_TIMEOUT_MS = 5000


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by the user only; SQLite treats it as a new database.

    Creating it before SQLite does sets the mode atomically (no window with umask bits), and
    SQLite gives the -wal and -shm files the same mode as the database file.
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return  # another process created it first; it is theirs to have set up
    except OSError as exc:
        raise StoreError(
            f"cannot create transcript {path}: {exc.strerror or exc}",
            hint="check that the companion's directory exists and is writable",
        ) from exc
    os.close(fd)


def _not_a_transcript(path: Path, why: str) -> StoreError:
    return StoreError(
        f"{path} is not a Hearth transcript ({why})",
        hint="move the file away to start a new transcript, or restore it from a backup",
    )


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """True when SQLite gave up waiting for another connection's lock."""
    return "locked" in str(exc) or "busy" in str(exc)


def busy_error(path: Path) -> StoreError:
    """The error for a write lock held by another process for longer than the busy timeout."""
    return StoreError(
        f"transcript {path} is busy: another Hearth process is writing to it",
        hint="close the other Hearth window or command, then try again",
    )


def open_connection(path: Path) -> sqlite3.Connection:
    """Open (creating if missing) the transcript at `path`, migrated to the current schema.

    The connection is in autocommit mode; the store issues BEGIN/COMMIT itself. It may be used
    from several threads as long as the caller serializes access (the store holds a lock).
    Raises StoreError for a file that is not SQLite, is damaged, belongs to something else, or
    comes from a newer Hearth.
    """
    if not path.exists():
        _create_private_file(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(
            f"cannot open transcript {path}: {exc}",
            hint="check that the file and its directory are readable and writable",
        ) from exc
    try:
        _configure(conn, path)
        migrate(conn)
    except sqlite3.OperationalError as exc:
        conn.close()
        if is_busy(exc):
            raise busy_error(path) from exc
        raise StoreError(
            f"cannot open transcript {path}: {exc}",
            hint="check that the file and its directory are writable",
        ) from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        # "file is not a database", "database disk image is malformed", ...
        raise _not_a_transcript(path, str(exc)) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Reading the schema is the first real read: a non-SQLite file fails here, not later.
    has_tables = conn.execute(
        "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"
    ).fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    # Before anything below writes to the file: a newer Hearth's store is left as it is.
    check_not_newer(conn, version)
    if version == 0 and has_tables:
        # Some other program's SQLite file: adding our tables to it would be a surprise.
        raise _not_a_transcript(path, "an SQLite database of another program")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        # Happens on file systems without shared memory (some network mounts); still correct,
        # only readers and the writer block each other.
        log.warning("transcript %s: WAL journal unavailable, using %s", path, mode)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


class Database:
    """An open transcript connection with transactions that nest and a lock for threads.

    The TUI streams replies from a worker thread while its screens read from the main one, so
    every statement runs under one re-entrant lock, and a transaction holds it until it ends.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        """Wrap `conn` (from `open_connection`) for the file at `path`."""
        self.conn = conn
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together, or none do if the block raises.

        The outermost call is `BEGIN IMMEDIATE` (take the write lock now, so a later write in
        the block cannot fail with "busy" halfway). Nested calls join it through a SAVEPOINT:
        an exception that leaves a nested block undoes that block only, and nothing is
        committed before the outermost block ends.
        """
        with self._lock:
            if self._depth == 0:
                self._begin()
                self._depth = 1
                try:
                    yield
                    self.conn.execute("COMMIT")
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
                finally:
                    self._depth = 0
            else:
                name = f"nested_{self._depth}"
                self.conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                    raise
                else:
                    self.conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """A write that joins the caller's transaction, or runs in its own one.

        Unlike `transaction`, joining takes no savepoint: the store's own methods check
        everything before their first write, and a savepoint per appended message would slow
        bulk imports for nothing.
        """
        with self._lock:
            if self._depth:
                yield
            else:
                with self.transaction():
                    yield

    def _begin(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise busy_error(self.path) from exc
            raise

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement under the lock."""
        with self._lock:
            return self.conn.execute(sql, params)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """All rows of a query."""
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a query, or None."""
        with self._lock:
            cursor = self.conn.execute(sql, params)
            try:
                return cursor.fetchone()
            finally:
                # Resets the statement at once: an unfinished UPDATE ... RETURNING would
                # otherwise keep the statement open and make COMMIT fail.
                cursor.close()

    def close(self) -> None:
        """Let SQLite refresh its query statistics, then close (the WAL is checkpointed)."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA optimize")
            self.conn.close()
