"""`hearth memory add|edit|pin|forget|letter`: change what a companion remembers.

Core memories (labelled blocks, always in the prompt) live in companion.toml; stored memories
in the transcript file, indexed for search. Every change is logged (`hearth memory history`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.memory_common import companion_option, opened, resolve, snippet
from runtime.cli.output import json_option, print_json, print_table
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.errors import UsageError
from runtime.store import TranscriptStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from runtime.companion import CoreMemory
    from runtime.memory.core import CoreMemories

PIN_LABEL = "pinned"


def _is_item_id(target: str) -> bool:
    kind, _, number = target.partition(":")
    return kind in ("memory", "turn") and number.isdigit()


def _core(ctx: CliContext, entry: CompanionEntry, store: TranscriptStore) -> CoreMemories:
    from runtime.memory.core import CoreMemories

    return CoreMemories(CompanionRegistry(ctx.home), entry, store)


def _change_core(
    ctx: CliContext, companion_name: str | None, change: Callable[[CoreMemories], CoreMemory]
) -> None:
    """Apply `change` to the companion's core memories and show the block it left."""
    entry = resolve(ctx, companion_name)
    with TranscriptStore.open(entry.paths.transcript) as store:
        block = change(_core(ctx, entry, store))
    click.echo(f"core memory '{block.label}': {len(block.text)}/{block.limit} characters")


@click.command("add")
@click.argument("text")
@click.option("--core", "label", metavar="LABEL", help="Add to this core memory block instead.")
@click.option("--limit", type=int, help="Character budget of a new core block (default 2000).")
@companion_option
@pass_context
def add(ctx: CliContext, text: str, label: str | None, limit: int | None,
        companion_name: str | None) -> None:  # fmt: skip
    """Remember TEXT: as a stored memory (found by search), or with --core LABEL in a core
    block (always in the prompt)."""
    if label is None:
        if limit is not None:
            raise UsageError("--limit only applies to core blocks", hint="add --core LABEL")
        with opened(ctx, companion_name) as mem:
            item = mem.remember(text)
        click.echo(f"remembered as {item.id}")
        return
    _change_core(ctx, companion_name, lambda core: core.add(label, text, limit))


@click.command("edit")
@click.argument("target")
@click.argument("text", required=False)
@click.option("--limit", type=int, help="New character budget (core blocks).")
@companion_option
@pass_context
def edit(ctx: CliContext, target: str, text: str | None, limit: int | None,
         companion_name: str | None) -> None:  # fmt: skip
    """Replace the text of a core block (TARGET is its label) or of a stored memory
    (TARGET is memory:N)."""
    if target.startswith("turn:"):
        raise UsageError(
            "a turn is part of a conversation, not an editable memory",
            hint="forget it with `hearth memory forget TURN`, or pin a corrected version",
        )
    if _is_item_id(target):
        if text is None:
            raise UsageError("give the new text", hint=f'hearth memory edit {target} "…"')
        with opened(ctx, companion_name) as mem:
            mem.edit_memory(int(target.partition(":")[2]), text)
        click.echo(f"edited {target}")
        return
    _change_core(ctx, companion_name, lambda core: core.edit(target, text, limit))


@click.command("pin")
@click.argument("memory_id")
@click.option("--to", "label", default=PIN_LABEL, show_default=True, help="Core block label.")
@companion_option
@pass_context
def pin(ctx: CliContext, memory_id: str, label: str, companion_name: str | None) -> None:
    """Copy a memory (an id from `hearth memory search`) into a core block, so it is always in
    the prompt."""
    with opened(ctx, companion_name, index=False) as mem:
        item = mem.item(memory_id)
        block = _core(ctx, mem.entry, mem.store).add(label, item.own_text, action="core.pin")
    click.echo(f"pinned {memory_id} to core memory '{block.label}' "
               f"({len(block.text)}/{block.limit} characters)")  # fmt: skip


@click.command("forget")
@click.argument("target")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@companion_option
@pass_context
def forget(ctx: CliContext, target: str, yes: bool, companion_name: str | None) -> None:
    """Forget a memory for good: a core block (TARGET is its label), a stored memory
    (memory:N) or a conversation turn (turn:N; the conversation itself keeps it)."""
    if not _is_item_id(target):
        entry = resolve(ctx, companion_name)
        with TranscriptStore.open(entry.paths.transcript) as store:
            core = _core(ctx, entry, store)
            block = core.get(target)
            if not yes:
                click.confirm(f"Forget core memory '{target}' ({snippet(block.text, 60)})?",
                              abort=True)  # fmt: skip
            core.forget(target)
        click.echo(f"forgot core memory '{target}'")
        return
    with opened(ctx, companion_name, index=False) as mem:
        if not yes:
            text = mem.item(target).text if target.startswith("turn:") else (
                mem.store.get_memory(int(target.partition(":")[2])).text)  # fmt: skip
            click.confirm(f"Forget {target} ({snippet(text, 60)})?", abort=True)
        mem.forget(target)
    click.echo(f"forgot {target}")


@click.command("letter")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show where everything would go; change nothing.")
@companion_option
@json_option
@pass_context
def letter(ctx: CliContext, file: Path, dry_run: bool, companion_name: str | None,
           as_json: bool) -> None:  # fmt: skip
    """Read a memory letter: what fits goes into core blocks (user, relationship, companion),
    the rest becomes stored memories. Shows what went where."""
    from runtime.memory.letter import apply_letter, plan_letter

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{file} is not UTF-8 text", hint="save the letter as UTF-8") from exc
    entry = resolve(ctx, companion_name)
    plan = plan_letter(text, list(entry.companion.core_memories))
    if not dry_run:
        with opened(ctx, companion_name, index=False) as mem:
            apply_letter(plan, text, file.name, _core(ctx, mem.entry, mem.store), mem)
    if as_json:
        print_json({
            "pieces": [{"text": p.text, "destination": p.destination, "reason": p.reason}
                       for p in plan.pieces],
            "core": [{"label": b.label, "text": b.text, "limit": b.limit} for b in plan.blocks],
            "counts": plan.counts(),
            "dry_run": dry_run,
        })  # fmt: skip
        return
    rows = [[str(n), p.destination, p.reason, snippet(p.text, 70)]
            for n, p in enumerate(plan.pieces, 1)]  # fmt: skip
    print_table(f"Memory letter {file.name}", ["#", "goes to", "why", "text"], rows)
    summary = ", ".join(f"{n} → {dest}" for dest, n in sorted(plan.counts().items()))
    click.echo(("would put: " if dry_run else "put: ") + (summary or "nothing"))
