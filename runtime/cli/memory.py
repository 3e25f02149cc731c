"""`hearth memory …`: search, inspect and maintain a companion's long-term memory.

Reading commands are here; the ones that change memory (add, edit, pin, forget, letter) are in
`memory_edit`. Memory code (chromadb, onnxruntime) is imported when a command runs, never for
`hearth --help`. Searching first indexes whatever is new in the transcript.
"""

from __future__ import annotations

import time

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.memory_common import (
    companion_option,
    index_with_progress,
    memory_json,
    opened,
    progress_bar,
    resolve,
    snippet,
)
from runtime.cli.memory_edit import add, edit, forget, letter, pin
from runtime.cli.output import json_option, print_json, print_table
from runtime.errors import UsageError
from runtime.store import TranscriptStore, format_timestamp


@click.group()
def memory() -> None:
    """Search and edit what your companion remembers."""


@memory.command("search")
@click.argument("query")
@click.option("--k", "k", type=int, default=10, show_default=True, help="How many memories.")
@companion_option
@json_option
@pass_context
def search(ctx: CliContext, query: str, k: int, companion_name: str | None, as_json: bool) -> None:
    """Find the memories that best match QUERY (by meaning and by words, time-aware)."""
    if k < 1:
        raise UsageError(f"--k must be at least 1, got {k}", hint="e.g. --k 5")
    with opened(ctx, companion_name) as mem:
        hits = mem.search(query, k)
        if as_json:
            print_json([memory_json(hit.item, round(hit.score, 4)) for hit in hits])
            return
        if not hits:
            click.echo("No memories match.")
            return
        rows = [
            [hit.item.id, f"{hit.score:.3f}", format_timestamp(hit.item.created_at)[:10],
             snippet(hit.item.text)]
            for hit in hits
        ]  # fmt: skip
        print_table(None, ["id", "score", "date", "memory"], rows)


@memory.command("index")
@companion_option
@pass_context
def index(ctx: CliContext, companion_name: str | None) -> None:
    """Index what is new in the transcript (imports and chats do this themselves)."""
    with opened(ctx, companion_name, index=False) as mem:
        started = time.perf_counter()
        pending = mem.pending()
        index_with_progress(mem)
        click.echo(f"indexed {pending} new messages and memories in "
                   f"{time.perf_counter() - started:.1f} s")  # fmt: skip


@memory.command("rebuild")
@companion_option
@pass_context
def rebuild(ctx: CliContext, companion_name: str | None) -> None:
    """Make the memory index again from the transcript (after changing the embedding model,
    or when the index is damaged or from another Hearth version)."""
    import sys

    from runtime.memory import rebuild_memory

    entry = resolve(ctx, companion_name)
    with progress_bar(sys.stderr.isatty()) as update:
        mem, report = rebuild_memory(entry, update, model_dirs=ctx.config.model_dirs)
    with mem:
        count = mem.items.count()
    click.echo(f"rebuilt memory of {entry.name}: {count} memories from {report.messages} "
               f"messages in {report.seconds:.1f} s")  # fmt: skip


@memory.command("list")
@companion_option
@json_option
@pass_context
def list_memories(ctx: CliContext, companion_name: str | None, as_json: bool) -> None:
    """Show core memory blocks and stored (imported, archival) memories."""
    entry = resolve(ctx, companion_name)
    stored = []
    if entry.paths.transcript.exists():
        with TranscriptStore.open(entry.paths.transcript) as store:
            stored = [m for m in store.memories() if m.kind != "forgotten"]
    blocks = entry.companion.core_memories
    if as_json:
        print_json({
            "core": [{"label": b.label, "text": b.text, "limit": b.limit} for b in blocks],
            "memories": [
                {"id": f"memory:{m.id}", "kind": m.kind, "source": m.source,
                 "source_id": m.source_id, "text": m.text,
                 "created_at": format_timestamp(m.created_at)}
                for m in stored
            ],
        })  # fmt: skip
        return
    if blocks:
        rows = [[b.label, f"{len(b.text)}/{b.limit}", snippet(b.text)] for b in blocks]
        print_table("Core memories (always in the prompt)", ["label", "chars", "text"], rows)
    else:
        click.echo("No core memories yet (add one with `hearth memory add --core user TEXT`).")
    if stored:
        rows = [[f"memory:{m.id}", m.kind, m.source, snippet(m.text, 70)] for m in stored]
        print_table("Stored memories", ["id", "kind", "source", "text"], rows)


@memory.command("history")
@click.option("--limit", type=int, default=50, show_default=True, help="How many changes.")
@companion_option
@json_option
@pass_context
def history(ctx: CliContext, limit: int, companion_name: str | None, as_json: bool) -> None:
    """Every change to memory, newest first, with the text before and after."""
    entry = resolve(ctx, companion_name)
    events = []
    if entry.paths.transcript.exists():
        with TranscriptStore.open(entry.paths.transcript) as store:
            events = store.memory_events(limit)
    if as_json:
        print_json([
            {"id": e.id, "at": format_timestamp(e.at), "action": e.action, "target": e.target,
             "before": e.before, "after": e.after}
            for e in events
        ])  # fmt: skip
        return
    if not events:
        click.echo(f"No memory changes for {entry.name} yet.")
        return
    rows = [
        [format_timestamp(e.at)[:16].replace("T", " "), e.action, e.target,
         snippet(e.before or "-", 40), snippet(e.after or "-", 40)]
        for e in events
    ]  # fmt: skip
    print_table(f"Memory history of {entry.name}", ["when (UTC)", "change", "what", "before",
                                                   "after"], rows)  # fmt: skip


@memory.command("stats")
@companion_option
@json_option
@pass_context
def stats(ctx: CliContext, companion_name: str | None, as_json: bool) -> None:
    """Counts, embedding model, languages of the conversations, and a warning on mismatch."""
    with opened(ctx, companion_name, index=False) as mem:
        figures = mem.stats()
        warning = mem.language_check().warning(mem.entry.name, mem.entry.slug)
    if as_json:
        print_json(figures)
        return
    model = figures["embedding_model"]
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(figures["by_kind"].items())) or "none"
    languages = ", ".join(f"{k} {v:.0%}" for k, v in figures["languages"].items()) or "-"
    click.echo(f"memories: {figures['items']} ({kinds}); {figures['vectors']} vectors")
    click.echo(f"not indexed yet: {figures['pending']}")
    click.echo(f"core memory blocks: {figures['core_memories']}")
    click.echo(
        f"embedding model: {model['name']} ({model['dim']} dims, "
        f"{'multilingual' if figures['multilingual_model'] else 'English'})"
    )
    click.echo(f"languages: {languages}")
    click.echo(f"size: {figures['size_bytes'] / 1e6:.1f} MB in {figures['path']}")
    if warning:
        click.secho(f"warning: {warning[0]}", fg="yellow", err=True)
        click.echo(f"hint: {warning[1]}", err=True)


for _command in (add, edit, pin, forget, letter):
    memory.add_command(_command)
