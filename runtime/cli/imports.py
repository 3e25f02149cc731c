"""`hearth import PATH`: bring an export (ChatGPT, Claude, SillyTavern, cards, …) into a companion.

Progress (bytes and conversations) goes to stderr, and only when it is a terminal; the summary
table goes to stdout, or with `--json` the report object (see `ImportReport.to_json`). Then the
companion's long-term memory indexes what came in (its own progress bar): memory trouble is a
warning, never a failed import (the transcript has everything; the chat indexes it later).
Parsers and memory code are imported when the command runs, never for `hearth --help`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.output import json_option, print_json
from runtime.importers.registry import FORMATS

if TYPE_CHECKING:
    from runtime.importers.base import Progress
    from runtime.importers.pipeline import ImportReport

MAX_WARNINGS_SHOWN = 20
REFRESH_SECONDS = 0.1


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[tuple[Callable[[Progress], None] | None, object]]:
    """A rich progress bar on stderr (bytes and conversations), or nothing when not a TTY."""
    if not enabled:
        yield None, None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[sessions]:,} conversations"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("import", total=None, sessions=0)
    last = 0.0

    def update(progress: Progress) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < REFRESH_SECONDS:
            return
        last = now
        bar.update(
            task,
            completed=progress.bytes_done,
            total=progress.bytes_total or None,
            sessions=progress.sessions,
        )

    with bar:
        yield update, bar


def _summary(report: ImportReport) -> None:
    """The table people read, and the first warnings on stderr."""
    companion = report.companion or "-"
    if report.companion_created:
        companion += " (new)"
    rows = [
        ["format", report.format],
        ["companion", companion],
        ["conversations added", f"{report.sessions_added:,}"],
        ["conversations with new messages", f"{report.sessions_updated:,}"],
        ["conversations already there", f"{report.sessions_skipped_duplicate:,}"],
        ["messages added", f"{report.messages_added:,}"],
        ["memories added", f"{report.memories_added:,}"],
        ["persona updated", "yes" if report.persona_updated else "no"],
        ["warnings", f"{len(report.warnings):,}"],
    ]
    from rich.console import Console
    from rich.table import Table

    title = "Dry run: nothing was written" if report.dry_run else "Imported"
    table = Table(title=title, show_header=False, show_edge=False, title_justify="left")
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    for warning in report.warnings[:MAX_WARNINGS_SHOWN]:
        where = f"{warning.conversation}: " if warning.conversation else ""
        click.echo(f"warning: {where}{warning.message}", err=True)
    hidden = len(report.warnings) - MAX_WARNINGS_SHOWN
    if hidden > 0:
        click.echo(f"… and {hidden:,} more warnings (all of them with --json)", err=True)


@click.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--companion", "companion_name", metavar="NAME",
    help="Companion to import into (a new name creates it; optional if only one exists).",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True,
    help="The export's format; auto detects it.",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Read everything, report the numbers, write nothing.")
@json_option
@click.option(
    "--no-index", is_flag=True,
    help="Leave long-term memory as it is (the first chat or `hearth memory index` catches up).",
)  # fmt: skip
@click.option(
    "--companion-speaker", metavar="NAME",
    help="Plain-text transcripts: which speaker is the companion.",
)  # fmt: skip
@pass_context
def import_command(
    ctx: CliContext,
    path: Path,
    companion_name: str | None,
    fmt: str,
    dry_run: bool,
    as_json: bool,
    no_index: bool,
    companion_speaker: str | None,
) -> None:
    """Import PATH: an export's .zip, its unzipped folder, or a single export file."""
    from runtime.importers.pipeline import ImportRequest, run_import

    request = ImportRequest(path, fmt, companion_name, companion_speaker, dry_run)
    interactive = sys.stdin.isatty() and not as_json
    with _progress_bar(sys.stderr.isatty()) as (update, bar):

        def ask_name(default: str) -> str:
            if bar is not None:
                bar.stop()  # type: ignore[attr-defined]
            return click.prompt("Name for the new companion", default=default, err=True)

        report = run_import(
            ctx.home, request, on_progress=update, ask_name=ask_name if interactive else None
        )
    if as_json:
        print_json(report.to_json())
    else:
        _summary(report)
    if not (report.dry_run or no_index) and report.companion:
        index_memory(ctx, report.companion, summary=not as_json)


def index_memory(ctx: CliContext, companion: str, *, summary: bool) -> None:
    """Index the import in the companion's long-term memory (progress bar on a terminal).

    A memory that could not be updated is a warning on stderr. A language the embedding model
    does not fit is a note under the summary (`summary`); with --json stdout is the report
    alone, and `hearth memory stats` repeats the note.
    """
    from runtime.cli.memory_common import progress_bar
    from runtime.companions import CompanionRegistry
    from runtime.errors import HearthError
    from runtime.memory import index_companion

    try:
        entry = CompanionRegistry(ctx.home).find(companion)
        with progress_bar(sys.stderr.isatty()) as update:
            _, note = index_companion(entry, update, model_dirs=ctx.config.model_dirs)
    except HearthError as exc:
        click.echo(f"warning: the memory index was not updated: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        return
    if note is not None and summary:
        click.echo(f"memory: {note[0]}")
        click.echo(f"  to fix: {note[1]}")
