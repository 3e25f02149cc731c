"""`hearth train dataset`: build train/eval JSONL (OpenAI `messages`) from the transcript.

    hearth train dataset --companion Mira --model-filter gpt-4o --max-length 2048 --scrub-pii

Writes train.jsonl, eval.jsonl, pairs.jsonl and stats.json into the companion's
training/dataset/ folder (or `--out DIR`); what each holds is in `training.dataset`. Progress
goes to stderr on a terminal; the stats go to stdout as a table, or as JSON with `--json`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.memory_common import companion_option
from runtime.cli.output import counting_bar, json_option, print_json, print_table
from runtime.errors import UsageError
from training.dataset.options import (
    DEFAULT_EVAL_SHARE,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_PER_CONVERSATION,
    DEFAULT_OVERLAP,
)


def parse_since(value: str | None) -> datetime | None:
    """`--since` as an aware datetime: a date (2025-02-14) or an ISO time; naive means UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise UsageError(
            f"--since: {value!r} is not a date",
            hint="give a date like 2025-02-14 or a time like 2025-02-14T18:00:00+01:00",
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _check(max_length: int, overlap: int, cap: int, eval_share: float) -> None:
    if max_length < 64:
        raise UsageError(f"--max-length must be at least 64, got {max_length}", hint="e.g. 2048")
    if overlap < 0:
        raise UsageError(f"--overlap must not be negative, got {overlap}", hint="e.g. 2")
    if cap < 1:
        raise UsageError(f"--max-per-conversation must be at least 1, got {cap}", hint="e.g. 64")
    if not 0 <= eval_share < 1:
        raise UsageError(
            f"--eval-share must be at least 0 and below 1, got {eval_share}", hint="e.g. 0.1"
        )


def _show(stats: dict[str, Any]) -> None:
    """The stats as tables for people."""
    filtered = stats["filtered"]
    pii = filtered["pii"]
    rows = [
        ["examples", str(stats["train_examples"]), str(stats["eval_examples"])],
        ["tokens", f"{stats['train_tokens']:,}", f"{stats['eval_tokens']:,}"],
        ["conversations", str(stats["conversations"]["train"]),
         str(stats["conversations"]["eval"])],
        ["trained tokens", f"{stats['trained_tokens']:,}", "-"],
    ]  # fmt: skip
    print_table("Dataset", ["", "train", "eval"], rows)
    lengths = [[bucket, str(n)] for bucket, n in stats["length_histogram"].items()]
    print_table("Window lengths", ["tokens", "windows"], lengths)
    reasons = [[reason, str(n)] for reason, n in filtered.items() if reason != "pii"]
    reasons += [[f"pii: {kind}", str(n)] for kind, n in pii.items()]
    print_table("Filtered", ["why", "count"], reasons)
    languages = ", ".join(f"{k} {v:.0%}" for k, v in stats["languages"].items()) or "-"
    click.echo(f"languages: {languages}")
    click.echo(f"preference pairs: {stats['pairs']}")
    click.echo(f"tokens counted with {stats['tokenizer']}")
    click.echo(f"written to {stats['out']}")


@click.command("dataset")
@companion_option
@click.option(
    "--model-filter",
    "model_filter",
    multiple=True,
    metavar="SLUG",
    help="Train only on replies by this model (glob, e.g. 'gpt-4o*'; repeatable). "
    "Other replies stay as context.",
)
@click.option("--since", metavar="DATE", help="Only conversations (and replies) from this date.")
@click.option(
    "--max-length",
    type=int,
    default=DEFAULT_MAX_LENGTH,
    show_default=True,
    help="Longest window in tokens, chat template included.",
)
@click.option(
    "--overlap",
    type=int,
    default=DEFAULT_OVERLAP,
    show_default=True,
    help="Exchanges a window repeats from the one before, as context.",
)
@click.option(
    "--max-per-conversation",
    "max_per_conversation",
    type=int,
    default=DEFAULT_MAX_PER_CONVERSATION,
    show_default=True,
    help="At most this many windows from one conversation.",
)
@click.option(
    "--eval-share",
    type=float,
    default=DEFAULT_EVAL_SHARE,
    show_default=True,
    help="Share of conversations, the most recent, held out for eval.",
)
@click.option("--scrub-pii", is_flag=True, help="Replace e-mail addresses and phone numbers.")
@click.option(
    "--patterns",
    "patterns_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="More boilerplate patterns: one regex per line.",
)
@click.option(
    "--no-default-patterns",
    is_flag=True,
    help="Use only the --patterns file, not the built-in patterns.",
)
@click.option(
    "--tokenizer",
    metavar="PATH",
    type=click.Path(path_type=Path),
    help="Tokenizer for counting: HF folder, tokenizer.json or .gguf "
    "(default: the companion's chat model).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed for the per-conversation cap."
)
@click.option(
    "--out",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: the companion's training/dataset/).",
)
@json_option
@pass_context
def dataset(
    ctx: CliContext,
    companion_name: str | None,
    model_filter: tuple[str, ...],
    since: str | None,
    max_length: int,
    overlap: int,
    max_per_conversation: int,
    eval_share: float,
    scrub_pii: bool,
    patterns_file: Path | None,
    no_default_patterns: bool,
    tokenizer: Path | None,
    seed: int,
    out: Path | None,
    as_json: bool,
) -> None:
    """Build train/eval JSONL from the companion's conversations, with a stats report."""
    from runtime.companions import CompanionRegistry
    from runtime.store import TranscriptStore
    from training.dataset import DatasetOptions, build_dataset
    from training.dataset.boilerplate import DEFAULT_PATTERNS, load_patterns
    from training.dataset.tokens import resolve_counter
    from training.layout import TrainingPaths

    _check(max_length, overlap, max_per_conversation, eval_share)
    if no_default_patterns and patterns_file is None:
        raise UsageError(
            "--no-default-patterns without --patterns would strip nothing",
            hint="add --patterns FILE, or drop --no-default-patterns",
        )
    extra = load_patterns(patterns_file) if patterns_file is not None else ()
    options = DatasetOptions(
        model_filter=model_filter,
        since=parse_since(since),
        max_length=max_length,
        overlap=overlap,
        max_per_conversation=max_per_conversation,
        eval_share=eval_share,
        scrub_pii=scrub_pii,
        patterns=extra if no_default_patterns else DEFAULT_PATTERNS + extra,
        seed=seed,
    )
    entry = CompanionRegistry(ctx.home).resolve(companion_name)
    if not entry.paths.transcript.exists():
        raise UsageError(
            f"{entry.name} has no conversations yet",
            hint=f"import some with `hearth import EXPORT --companion {entry.slug}`, or chat",
        )
    target = out.expanduser() if out is not None else TrainingPaths(entry.paths).dataset_dir
    counter = resolve_counter(tokenizer, entry, ctx.config)
    try:
        with (
            TranscriptStore.open(entry.paths.transcript) as store,
            counting_bar(sys.stderr.isatty(), "building dataset", "conversations") as update,
        ):
            stats = build_dataset(store, entry.companion, options, counter, target, update)
    finally:
        counter.close()
    if stats["train_examples"] == 0:
        click.secho("warning: no training examples were made", fg="yellow", err=True)
        click.echo("hint: see 'filtered' for why (e.g. --model-filter matching no reply)", err=True)
    if as_json:
        print_json(stats)
    else:
        _show(stats)
