"""What the `hearth memory` commands share: opening a companion's memory, up to date, with a
progress bar on a terminal; and the JSON shape of a memory."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

import click

from runtime.cli.context import CliContext
from runtime.cli.output import counting_bar
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.store import format_timestamp

if TYPE_CHECKING:
    from runtime.memory.items import Item
    from runtime.memory.service import CompanionMemory

companion_option = click.option(
    "--companion", "companion_name", metavar="NAME", help="Which companion (optional if only one)."
)


def progress_bar(enabled: bool) -> AbstractContextManager[Callable[[int, int], None] | None]:
    """A progress bar on stderr counting messages indexed, or None when not a terminal."""
    return counting_bar(enabled, "indexing memory", "messages")


def resolve(ctx: CliContext, name: str | None) -> CompanionEntry:
    """The companion named (or the only one)."""
    return CompanionRegistry(ctx.home).resolve(name)


@contextmanager
def opened(ctx: CliContext, name: str | None, *, index: bool = True) -> Iterator[CompanionMemory]:
    """The companion's memory, with what is new indexed first (progress bar on a terminal)."""
    from runtime.memory import open_memory

    entry = resolve(ctx, name)
    memory = open_memory(entry, model_dirs=ctx.config.model_dirs)
    try:
        if index:
            index_with_progress(memory)
        yield memory
    finally:
        memory.close()


def index_with_progress(memory: CompanionMemory) -> None:
    """`memory.index_new()` with a progress bar when stderr is a terminal."""
    with progress_bar(sys.stderr.isatty() and memory.pending() > 0) as update:
        memory.index_new(update)


def memory_json(item: Item, score: float | None = None) -> dict[str, Any]:
    """The `hearth memory search --json` shape; keys may be added, never renamed."""
    return {
        "text": item.text,
        "score": score,
        "kind": item.kind,
        "session_id": item.session_id,
        "message_ids": list(item.message_ids),
        "source_ids": list(item.source_ids),
        "created_at": format_timestamp(item.created_at),
        "id": item.id,
        # The neighbouring messages shown in `text` around the turn itself (see memory/turns.py).
        "context_ids": list(item.context_ids),
        "speakers": list(item.speakers),
    }


def snippet(text: str, width: int = 90) -> str:
    """One line of at most `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
