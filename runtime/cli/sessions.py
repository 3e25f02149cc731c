"""`hearth sessions list|show|rename|delete`: read and tidy a companion's conversations."""

from __future__ import annotations

from typing import Any

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.output import json_option, print_json, print_table
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.errors import NotFoundError
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
