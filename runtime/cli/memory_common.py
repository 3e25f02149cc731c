"""What the `hearth memory` commands share: opening a companion's memory, up to date, with a
progress bar on a terminal; and the JSON shape of a memory."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from runtime.cli.context import CliContext
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.store import format_timestamp

if TYPE_CHECKING:
    from runtime.memory.items import Item
    from runtime.memory.service import CompanionMemory

companion_option = click.option(
    "--companion", "companion_name", metavar="NAME", help="Which companion (optional if only one)."
)
REFRESH_SECONDS = 0.1


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr counting messages indexed, or None when not a terminal."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("indexing memory"), BarColumn(), MofNCompleteColumn(), TextColumn("messages"),
        TimeRemainingColumn(), console=Console(stderr=True), transient=True,
    )  # fmt: skip
    task = bar.add_task("index", total=None)
    last = 0.0

    def update(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= REFRESH_SECONDS or done >= total:
            last = now
            bar.update(task, completed=done, total=total or None)

    with bar:
        yield update


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
    }


def snippet(text: str, width: int = 90) -> str:
    """One line of at most `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
