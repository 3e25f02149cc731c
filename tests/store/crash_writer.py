"""Test helper: a writer that appends messages in transactions until it is killed.

    python tests/store/crash_writer.py DB BATCH

Each transaction appends BATCH messages; halfway through it prints "writing" and sleeps, so a
test that kills the process after reading that line kills it inside a transaction. After each
commit it prints "committed <total>". Message texts start with their sequence number.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from runtime.store import TranscriptStore


def main() -> None:
    path, batch = Path(sys.argv[1]), int(sys.argv[2])
    store = TranscriptStore.open(path)
    # A page cache of two pages makes SQLite spill uncommitted pages into the WAL before
    # COMMIT, so the kill leaves half a transaction on disk that reopening must ignore.
    store._db.conn.execute("PRAGMA cache_size = 2")
    session = store.create_session("crash test")
    committed = 0
    while True:
        with store.transaction():
            for i in range(batch):
                role = "user" if i % 2 == 0 else "assistant"
                store.append(session.id, role, f"{committed + i} " + "話" * 1500)
                if i == batch // 2:
                    print("writing", flush=True)
                    time.sleep(0.05)
        committed += batch
        print(f"committed {committed}", flush=True)


if __name__ == "__main__":
    main()
