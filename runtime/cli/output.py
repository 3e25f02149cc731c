"""How commands print: JSON for scripts (stable shapes), rich tables for people."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.table import Table


def print_json(data: Any) -> None:
    """Pretty JSON with non-ASCII text kept as is (Chinese stays readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def print_table(title: str | None, columns: list[str], rows: list[list[str]]) -> None:
    """A table on stdout; plain when stdout is not a terminal."""
    table = Table(title=title, show_edge=False, header_style="bold")
    for index, column in enumerate(columns):
        # The first column is what people type back (an id, a name): never break it.
        table.add_column(column, overflow="fold", no_wrap=index == 0)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


REFRESH_SECONDS = 0.1


@contextmanager
def counting_bar(
    enabled: bool, label: str, unit: str
) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr ("LABEL ━━━ 12/40 UNIT"), or None when not `enabled` (not
    a terminal). Yields `update(done, total)`, throttled to REFRESH_SECONDS."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
        TimeRemainingColumn(), console=Console(stderr=True), transient=True,
    )  # fmt: skip
    task = bar.add_task(label, total=None)
    last = 0.0

    def update(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= REFRESH_SECONDS or done >= total:
            last = now
            bar.update(task, completed=done, total=total or None)

    with bar:
        yield update
