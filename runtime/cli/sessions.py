"""`hearth sessions list|show|rename|delete|export`: read, tidy and export conversations."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.output import json_option, print_json, print_table
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.errors import HearthError, NotFoundError, UsageError
from runtime.store import PathStep, Session, TranscriptStore, format_timestamp

companion_option = click.option(
    "--companion", "companion_name", metavar="NAME", help="Which companion (optional if only one)."
)


def _store(ctx: CliContext, name: str | None) -> tuple[CompanionEntry, TranscriptStore | None]:
    """The companion and its transcript; None when it has never had a conversation."""
    entry = CompanionRegistry(ctx.home).resolve(name)
    if not entry.paths.transcript.exists():
        return entry, None
    return entry, TranscriptStore.open(entry.paths.transcript)


def session_show_json(session: Session, steps: list[PathStep]) -> dict[str, Any]:
    """The `sessions show --json` contract: the active path in order, with alternatives."""
    return {
        "id": session.id,
        "title": session.title,
        "source_id": session.source_id,
        "messages": [
            {
                "id": step.message.id,
                "role": step.message.role,
                "text": step.message.text,
                "model": step.message.model,
                "created_at": format_timestamp(step.message.created_at),
                "source_id": step.message.source_id,
                "alternatives": step.alternatives,
                "position": step.position,
                "parent_id": step.message.parent_id,
                "partial": step.message.partial,
            }
            for step in steps
        ],
        "source": session.source,
        "created_at": format_timestamp(session.created_at),
    }


@click.group()
def sessions() -> None:
    """List, read and delete conversations."""


@sessions.command("list")
@companion_option
@json_option
@pass_context
def list_sessions(ctx: CliContext, companion_name: str | None, as_json: bool) -> None:
    """List conversations, most recent first."""
    entry, store = _store(ctx, companion_name)
    summaries = []
    if store is not None:
        with store:
            summaries = store.list_sessions()
    if as_json:
        print_json(
            [
                {
                    "id": s.id,
                    "title": s.title,
                    "source": s.source,
                    "source_id": s.source_id,
                    "created_at": format_timestamp(s.created_at),
                    "message_count": s.message_count,
                    "updated_at": format_timestamp(s.updated_at),
                }
                for s in summaries
            ]
        )
        return
    if not summaries:
        click.echo(f"{entry.name} has no conversations yet.")
        return
    rows = [
        [
            str(s.id),
            s.title or "(untitled)",
            s.source,
            str(s.message_count),
            format_timestamp(s.updated_at)[:16].replace("T", " "),
        ]
        for s in summaries
    ]
    print_table(
        f"Conversations with {entry.name}",
        ["id", "title", "source", "messages", "updated (UTC)"],
        rows,
    )


@sessions.command("show")
@click.argument("session_id", type=int)
@companion_option
@json_option
@pass_context
def show_session(
    ctx: CliContext, session_id: int, companion_name: str | None, as_json: bool
) -> None:
    """Print a conversation's active branch."""
    entry, store = _store(ctx, companion_name)
    if store is None:
        raise _no_session(session_id)
    with store:
        session = store.get_session(session_id)
        steps = store.active_path_with_alternatives(session_id)
    if as_json:
        print_json(session_show_json(session, steps))
        return
    click.echo(f"# {session.title or '(untitled)'}  [{session.source}, session {session.id}]")
    for step in steps:
        who = entry.name if step.message.role == "assistant" else step.message.role
        branch = f" ({step.position}/{step.alternatives})" if step.alternatives > 1 else ""
        click.echo(f"\n[{step.message.id}] {who}{branch}:\n{step.message.text}")


@sessions.command("rename")
@click.argument("session_id", type=int)
@click.argument("title")
@companion_option
@pass_context
def rename_session(
    ctx: CliContext, session_id: int, title: str, companion_name: str | None
) -> None:
    """Give a conversation a new title."""
    _entry, store = _store(ctx, companion_name)
    if store is None:
        raise _no_session(session_id)
    with store:
        store.rename_session(session_id, title)
    click.echo(f"renamed session {session_id}")


@sessions.command("delete")
@click.argument("session_id", type=int)
@companion_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def delete_session(ctx: CliContext, session_id: int, companion_name: str | None, yes: bool) -> None:
    """Delete a conversation with all its branches."""
    _entry, store = _store(ctx, companion_name)
    if store is None:
        raise _no_session(session_id)
    with store:
        session = store.get_session(session_id)
        if not yes:
            click.confirm(
                f"Delete session {session_id} ({session.title or 'untitled'})?", abort=True
            )
        store.delete_session(session_id)
    click.echo(f"deleted session {session_id}")


def _no_session(session_id: int) -> NotFoundError:
    return NotFoundError(
        f"no session {session_id} (no conversations yet)",
        hint="list sessions with `hearth sessions list`",
    )


@sessions.command("export")
@click.argument("session_ids", metavar="[ID]...", nargs=-1, type=int)
@click.option("--all", "export_all", is_flag=True, help="Export every conversation.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "markdown"]),
    help="jsonl: every branch, imports back as the same tree; markdown: the active branch, "
    "to read. Default: from --out's extension (.md → markdown), else jsonl.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (private, mode 0600) instead of standard output.",
)
@companion_option
@pass_context
def export_sessions(
    ctx: CliContext,
    session_ids: tuple[int, ...],
    export_all: bool,
    fmt: str | None,
    out: Path | None,
    companion_name: str | None,
) -> None:
    """Write conversations out as Hearth JSONL or markdown."""
    from runtime.session_export import jsonl_lines, markdown_lines

    if bool(session_ids) == export_all:
        raise UsageError(
            "give one or more session IDs, or --all",
            hint="list sessions with `hearth sessions list`",
        )
    if fmt is None:
        is_markdown = out is not None and out.suffix.lower() in (".md", ".markdown")
        fmt = "markdown" if is_markdown else "jsonl"
    entry, store = _store(ctx, companion_name)
    if store is None:
        if export_all:
            _write_export([], out)
            return
        raise _no_session(session_ids[0])
    with store:
        ids = [s.id for s in store.list_sessions()] if export_all else list(session_ids)
        for session_id in ids:
            store.get_session(session_id)  # unknown ids fail before anything is written

        def produce() -> Iterator[str]:
            for number, session_id in enumerate(ids):
                session = store.get_session(session_id)
                if fmt == "jsonl":
                    yield from jsonl_lines(session, store.messages(session_id))
                    continue
                if number:
                    yield "\n---\n\n"
                yield from markdown_lines(session, store.active_path(session_id), entry.name)

        _write_export(produce(), out)
    if out is not None:
        click.echo(f"exported {len(ids)} conversation(s) to {out}")


def _write_export(lines: Iterable[str], out: Path | None) -> None:
    """Lines to stdout, or to `out` through a temporary file (never half a file)."""
    if out is None:
        for line in lines:
            click.echo(line, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise HearthError(f"cannot write {out}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for line in lines:
                handle.write(line)
        os.chmod(tmp, 0o600)  # conversations are private
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise HearthError(f"cannot write {out}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
