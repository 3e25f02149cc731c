"""The memory directory: `companions/<slug>/memory/` with memory.sqlite and chroma/.

It is derived from the transcript, so anything wrong with it (another format version, another
embedding model, damage) is an error whose fix is `hearth memory rebuild`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from runtime.memory.embedder import Embedder
from runtime.memory.errors import REBUILD_HINT, MemoryIndexError
from runtime.memory.items import ItemStore
from runtime.memory.vectors import VectorIndex
from runtime.paths import ensure_private_dir

FORMAT = 3
"""Version of the memory directory's layout; another version must be rebuilt (2: keyword terms
with Korean particles cut, Indonesian stems, Chinese function characters; see `keywords`;
3: turns shown with their neighbours and speakers, messages embedded in the third person,
irregular English verbs; see `turns`, `person`, `english`). Episodes came later without a new
format: they are made from the items' keyword terms when a file lacks them (see `items`)."""


def open_directory(directory: Path, embedder: Embedder) -> tuple[ItemStore, VectorIndex]:
    """Open memory.sqlite and Chroma in `directory`, checking format and embedding model."""
    ensure_private_dir(directory)
    sqlite_file = directory / "memory.sqlite"
    fresh = not sqlite_file.exists()
    if fresh and any(directory.iterdir()):
        raise MemoryIndexError(
            f"{directory} is not a Hearth memory directory (no memory.sqlite)", REBUILD_HINT
        )
    try:
        items = ItemStore.open(directory)
    except Exception as exc:  # sqlite3.DatabaseError and friends: damaged or foreign file
        raise MemoryIndexError(f"{sqlite_file} is damaged ({exc})", REBUILD_HINT) from exc
    try:
        identity = embedder.info.identity()
        if fresh:
            with items.transaction():
                items.set_meta("format", FORMAT)
                items.set_meta("embedding", identity)
        check(items, directory, identity)
        vectors = VectorIndex.open(directory / "chroma", embedder)
    except BaseException:
        items.close()
        raise
    return items, vectors


def check(items: ItemStore, directory: Path, identity: dict[str, Any]) -> None:
    """MemoryIndexError unless memory.sqlite has this format and this embedding model."""
    found = items.get_meta("format")
    if found != FORMAT:
        newer = isinstance(found, int) and found > FORMAT
        which = "a newer" if newer else "another"
        raise MemoryIndexError(
            f"memory in {directory} was written by {which} version of Hearth (format {found}, "
            f"this Hearth reads {FORMAT})",
            REBUILD_HINT + (" (or upgrade Hearth)" if newer else ""),
        )
    stored = items.get_meta("embedding") or {}
    if stored != identity:
        raise MemoryIndexError(
            f"memory in {directory} was built with embedding model {stored.get('name')!r} "
            f"({stored.get('dim')} dims, sha256 {str(stored.get('sha256'))[:12]}…), the companion "
            f"now uses {identity['name']!r} ({identity['dim']} dims, sha256 "
            f"{identity['sha256'][:12]}…)",
            REBUILD_HINT,
        )


def remove_directory(directory: Path, companion_root: Path) -> None:
    """Delete a companion's memory directory (only ever one inside `companion_root`)."""
    if directory.parent.resolve() != companion_root.resolve():
        raise MemoryIndexError(f"refusing to delete {directory}: not a companion's memory folder")
    if directory.exists():
        shutil.rmtree(directory)


def size(directory: Path) -> int:
    """Bytes used by the files under `directory`."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
