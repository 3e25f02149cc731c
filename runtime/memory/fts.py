"""SQLite helpers shared by memory.sqlite's tables (`items`, `episodes`): the best FTS5 matches
of some terms, and IN lists cut to SQLite's variable limit."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

IN_LIMIT = 500
"""Values bound in one `IN (…)` (SQLite allows 999 variables in older builds)."""


def best_matches(
    conn: sqlite3.Connection, fts: str, table: str, columns: str, terms: Sequence[str], limit: int
) -> list[tuple]:
    """`columns` of the `limit` rows of `table` whose `fts` document (same rowid) best matches
    any of `terms` by BM25, best first; `best.score` is BM25 (lower is better)."""
    if not terms or limit <= 0:
        return []
    query = " OR ".join(f'"{term}"' for term in terms)
    # Rank inside FTS5 first, then join the few best: joining every match to `table` before
    # the LIMIT costs as much again as the ranking.
    return conn.execute(
        f"SELECT {columns} FROM (SELECT rowid, bm25({fts}) AS score FROM {fts}"
        f" WHERE {fts} MATCH ? ORDER BY score LIMIT ?) AS best"
        f" JOIN {table} ON {table}.rowid = best.rowid ORDER BY best.score",
        (query, limit),
    ).fetchall()


def rows_in(conn: sqlite3.Connection, select: str, values: Sequence[Any]) -> list[tuple]:
    """The rows of `select` (which ends in `IN ({marks})`) for all `values`, IN_LIMIT at a
    time. Fetched whole: ranking reads a few hundred rows per query, and a generator handing
    them over one by one cost ~10 % of that (0.2 ms at 100k memories)."""
    rows: list[tuple] = []
    for start in range(0, len(values), IN_LIMIT):
        chunk = list(values[start : start + IN_LIMIT])
        rows.extend(conn.execute(select.format(marks=",".join("?" * len(chunk))), chunk))
    return rows
