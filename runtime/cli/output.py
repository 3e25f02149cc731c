"""How commands print: JSON for scripts (stable shapes), rich tables for people."""

from __future__ import annotations

import json
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
