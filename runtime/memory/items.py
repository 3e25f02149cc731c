"""The memory directory's own SQLite file: every indexed item, its keyword index and the state.

`items` holds what a search returns (text, kind, provenance, time); `terms` is an FTS5 index
of each item's keyword terms (see `keywords`), ranked with SQLite's BM25; `episodes` groups a
session's turns for a keyword search of their own (see `episodes`); `meta` holds the
format version, the embedding model's identity and how far indexing has got. Chroma holds the
vectors under the same item ids. This file is the authority: a vector whose id is not here is
ignored (so a crash between the two writes is harmless). Everything here is derived from the
transcript and can be rebuilt (`hearth memory rebuild`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runtime.memory.episodes import Episodes
from runtime.memory.fts import best_matches, rows_in
from runtime.memory.keywords import terms
from runtime.memory.language import CJK_SHARE, cjk_share

FILE_NAME = "memory.sqlite"

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE items (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        session_id INTEGER,
        message_ids TEXT NOT NULL,
        source_ids TEXT NOT NULL,
        created_at REAL NOT NULL,
        text TEXT NOT NULL,
        views INTEGER NOT NULL DEFAULT 1,
        cjk INTEGER NOT NULL DEFAULT 0,
        context_ids TEXT NOT NULL DEFAULT '[]',
        speakers TEXT NOT NULL DEFAULT '[]'
    )""",
    "CREATE INDEX items_by_time ON items (created_at)",
    "CREATE INDEX items_by_session ON items (session_id)",
    # porter stems English words; unicode61 folds case and accents and keeps CJK bigrams whole.
    "CREATE VIRTUAL TABLE terms USING fts5(body, tokenize='porter unicode61 remove_diacritics 2')",
    # How many items contain each term (as `keywords.terms` writes it): FTS5 can only count a
    # term's documents by reading its whole list, ~1 ms per common term at 100k items.
    "CREATE TABLE df (term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
)
MAX_DF_SHARE = 0.15
"""Query terms found in more items than this share are left out of keyword search: they tell
nothing apart (the user's own name is in every turn) and they make BM25 slow."""
MIN_ITEMS_FOR_DF = 50
MAX_QUERY_TERMS = 32
POSTINGS_BUDGET = 5_000
"""Most items a keyword search scores: FTS5's bm25() costs ~1.3 µs per matching item here."""


@dataclass(frozen=True)
class Item:
    """One searchable memory: a transcript turn, or a stored (imported, archival) memory."""

    id: str
    """"turn:<first message id>" or "memory:<memories row id>"."""
    kind: str
    """"episodic", "imported" or "archival"."""
    text: str
    """What is shown (and put in the prompt)."""
    session_id: int | None
    message_ids: tuple[int, ...]
    """The turn's own messages (a stored memory has none)."""
    source_ids: tuple[str, ...]
    """The export's ids of every message shown, neighbours included, in order."""
    created_at: datetime
    context_ids: tuple[int, ...] = ()
    """Messages shown beside the turn: the one before it and the one after it."""
    speakers: tuple[str, ...] = ()
    """Who speaks in what is shown."""

    @property
    def timestamp(self) -> float:
        """created_at as epoch seconds (what Chroma filters on)."""
        return self.created_at.timestamp()

    @property
    def own_text(self) -> str:
        """`text` without the neighbours shown beside a turn: what pinning copies.

        Each shown message is one line; a message's parent is written before it, so the one
        before the turn has a smaller id than the turn's first message, the one after a
        larger id than its last."""
        lines = self.text.split("\n")
        if not self.context_ids or len(lines) != len(self.context_ids) + len(self.message_ids):
            return self.text
        start = 1 if min(self.context_ids) < self.message_ids[0] else 0
        end = len(lines) - (1 if max(self.context_ids) > self.message_ids[-1] else 0)
        return "\n".join(lines[start:end])


@dataclass(frozen=True)
class Brief:
    """An item's time, script and messages: enough to score it as a candidate."""

    created_at: float
    cjk: bool
    """Mostly Chinese, Japanese or Korean text."""
    message_ids_json: str
    speakers_json: str = "[]"
    """Who speaks in what the item shows, as stored (ranking reads it once per speaker list)."""
    text: str = ""
    """What the item shows, when asked for (see `ItemStore.briefs`)."""

    def message_ids(self) -> list[int]:
        """The transcript messages the item stands for."""
        return json.loads(self.message_ids_json)


def _item(row: Sequence[Any]) -> Item:
    return Item(
        row[0], row[1], row[6], row[2], tuple(json.loads(row[3])), tuple(json.loads(row[4])),
        datetime.fromtimestamp(row[5], UTC), tuple(json.loads(row[7])),
        tuple(json.loads(row[8])),
    )  # fmt: skip


_ITEM_COLUMNS = (
    "id, kind, session_id, message_ids, source_ids, created_at, text, context_ids, speakers"
)


class ItemStore:
    """memory.sqlite: open with `ItemStore.open(directory)`, close when done."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        """Use `open`."""
        self.conn = conn
        self.path = path
        self._count: int | None = None
        self.episodes = Episodes(conn)

    @classmethod
    def open(cls, directory: Path) -> ItemStore:
        """Open (creating the schema when new) the file in `directory`."""
        path = directory / FILE_NAME
        new = not path.exists()
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            if new:
                with _transaction(conn):
                    for statement in SCHEMA:
                        conn.execute(statement)
            else:
                conn.execute("SELECT 1 FROM meta LIMIT 1")  # not ours / damaged: fails here
            store = cls(conn, path)
            if store.episodes.missing():
                with _transaction(conn):
                    store.episodes.create()
                    if not new:  # a file from before episodes: made from its items
                        store.episodes.rebuild_all()
        except sqlite3.DatabaseError:
            conn.close()
            raise
        path.chmod(0o600)
        return store

    def close(self) -> None:
        """Close the file."""
        self.conn.close()

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Writes inside commit together."""
        return _transaction(self.conn)

    # --- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value stored under `key`."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under `key`."""
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    # --- items --------------------------------------------------------------------------------

    def upsert(self, items: Iterable[tuple[Item, str, int]]) -> None:
        """Add or replace items, each with the text its keyword terms come from and how many
        vectors it has."""
        counts: Counter[str] = Counter()
        for item, keyword_text, views in items:
            self.delete([item.id])
            found = terms(keyword_text, document=True)
            counts.update(set(found))
            cursor = self.conn.execute(
                f"INSERT INTO items ({_ITEM_COLUMNS}, views, cjk)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.id, item.kind, item.session_id, json.dumps(item.message_ids),
                    json.dumps(item.source_ids, ensure_ascii=False), item.timestamp, item.text,
                    json.dumps(item.context_ids), json.dumps(item.speakers, ensure_ascii=False),
                    views, cjk_share(item.text) > CJK_SHARE,
                ),
            )  # fmt: skip
            self.conn.execute(
                "INSERT INTO terms (rowid, body) VALUES (?, ?)", (cursor.lastrowid, " ".join(found))
            )
            self.episodes.touch(item.session_id, item.id)
        self._add_df(counts, 1)
        self.episodes.refresh()

    def delete(self, item_ids: Iterable[str]) -> list[str]:
        """Remove items (unknown ids are ignored); return the ids of their vectors."""
        counts: Counter[str] = Counter()
        vector_ids: list[str] = []
        for item_id in item_ids:
            row = self.conn.execute(
                "SELECT items.rowid, terms.body, items.views, items.session_id FROM items"
                " JOIN terms ON terms.rowid = items.rowid WHERE items.id = ?",
                (item_id,),
            ).fetchone()
            if row is not None:
                counts.update(set(row[1].split()))
                vector_ids.extend(vector_ids_of(item_id, row[2]))
                self.conn.execute("DELETE FROM terms WHERE rowid = ?", (row[0],))
                self.conn.execute("DELETE FROM items WHERE rowid = ?", (row[0],))
                self.episodes.touch(row[3], item_id)
            else:
                vector_ids.append(item_id)
        self._add_df(counts, -1)
        self.episodes.refresh()
        return vector_ids

    def _add_df(self, counts: Counter[str], sign: int) -> None:
        if not counts:
            return
        self._count = None
        self.conn.executemany(
            "INSERT INTO df (term, n) VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET n = n + ?",
            [(term, sign * n, sign * n) for term, n in counts.items()],
        )
        if sign < 0:
            self.conn.execute("DELETE FROM df WHERE n <= 0")

    def count(self) -> int:
        """How many items there are."""
        if self._count is None:
            self._count = int(self.conn.execute("SELECT count(*) FROM items").fetchone()[0])
        return self._count

    def useful_terms(self, text: str) -> list[str]:
        """The text's distinct terms that occur in some item, without those in so many items
        that they tell nothing apart (see MAX_DF_SHARE)."""
        wanted = list(dict.fromkeys(terms(text)))[:MAX_QUERY_TERMS]
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        df = dict(self.conn.execute(f"SELECT term, n FROM df WHERE term IN ({marks})", wanted))
        total = self.count()
        ceiling = total * MAX_DF_SHARE if total >= MIN_ITEMS_FOR_DF else total
        useful = sorted((n, term) for term, n in df.items() if 0 < n <= ceiling)
        # BM25 scores every item holding any query term: rarest terms first, until the work
        # is bounded (frequent terms add little to the ranking anyway).
        kept: list[str] = []
        postings = 0
        for n, term in useful:
            if kept and postings + n > POSTINGS_BUDGET:
                break
            kept.append(term)
            postings += n
        return kept

    def get(self, item_ids: Sequence[str]) -> dict[str, Item]:
        """The items with these ids that exist."""
        return {row[0]: _item(row) for row in self._rows(_ITEM_COLUMNS, item_ids)}

    def briefs(self, item_ids: Sequence[str], *, text: bool = False) -> dict[str, Brief]:
        """What ranking needs of each candidate, without building whole items; with the text
        they show when `text`."""
        columns = "id, created_at, cjk, message_ids, speakers" + (", text" if text else "")
        rows = self._rows(columns, item_ids)
        return {row[0]: Brief(*row[1:5], *row[5:]) for row in rows}

    def _rows(self, columns: str, item_ids: Sequence[str]) -> list[tuple]:
        """`columns` of the items with these ids."""
        return rows_in(self.conn, f"SELECT {columns} FROM items WHERE id IN ({{marks}})", item_ids)

    def vector_ids_between(self, start: float, end: float) -> list[str]:
        """The vector ids of items created in [start, end) (epoch seconds)."""
        rows = self.conn.execute(
            "SELECT id, views FROM items WHERE created_at >= ? AND created_at < ?", (start, end)
        )
        return [vector_id for row in rows for vector_id in vector_ids_of(row[0], row[1])]

    def ids(self) -> list[str]:
        """Every item id, in insertion order."""
        return [row[0] for row in self.conn.execute("SELECT id FROM items ORDER BY rowid")]

    def items_of_sessions_not_in(self, session_ids: Collection[int]) -> list[str]:
        """Ids of turn items whose session is not among `session_ids` (deleted sessions)."""
        stored = {row[0] for row in self.conn.execute(
            "SELECT DISTINCT session_id FROM items WHERE session_id IS NOT NULL"
        )}  # fmt: skip
        gone = sorted(stored - set(session_ids))
        found: list[str] = []
        for session_id in gone:
            rows = self.conn.execute("SELECT id FROM items WHERE session_id = ?", (session_id,))
            found.extend(row[0] for row in rows)
        return found

    def count_by_kind(self) -> dict[str, int]:
        """How many items of each kind."""
        rows = self.conn.execute("SELECT kind, count(*) FROM items GROUP BY kind")
        return {kind: count for kind, count in rows}

    def episode_items(self, text: str, limit: int) -> list[list[str]]:
        """The turn ids of the `limit` episodes that best match `text`'s terms. Every term
        counts, even one in most items (a name): episodes are few, and a name that is in all
        of one conversation's episodes and none of another's tells them apart (recall@10 on
        the dialogs 0.779 / 0.782 with only `useful_terms`, 0.788 / 0.786 with all)."""
        return self.episodes.best(list(dict.fromkeys(terms(text)))[:MAX_QUERY_TERMS], limit)

    def search(self, text: str, limit: int) -> list[tuple[str, float]]:
        """(item id, BM25 score) of the `limit` items that best match `text`'s useful terms."""
        useful = self.useful_terms(text)
        rows = best_matches(self.conn, "terms", "items", "items.id, -best.score", useful, limit)
        return [(row[0], row[1]) for row in rows]


def vector_ids_of(item_id: str, views: int) -> list[str]:
    """Chroma ids of an item's vectors: its own id, then "<id>#1", "<id>#2", …"""
    return [item_id] + [f"{item_id}#{n}" for n in range(1, views)]


def item_id_of(vector_id: str) -> str:
    """The item a Chroma vector belongs to."""
    return vector_id.partition("#")[0]


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    if conn.in_transaction:  # joined by an outer transaction
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
