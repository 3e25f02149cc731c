"""`hearth train ab`: blind A/B test in the terminal — base vs tuned replies to held-out turns.

    hearth train ab --companion Mira --n 10     # answer 1 / 2 / = (tie) / s (skip) / q (quit)
    hearth train ab --companion Mira --report   # the win rate so far (--json for scripts)

Both replies come from llama.cpp: the base GGUF the adapter was exported for, alone and with
the run's exported adapter (`hearth train export` first), sampled with the companion's settings
and the same seed. Choices go to `training/ab.jsonl` (see `runtime.ab`); the TUI offers the same
test from its command palette.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.memory_common import companion_option
from runtime.cli.output import json_option, print_json
from training.cli_options import run_option

if TYPE_CHECKING:
    from runtime.companions import CompanionEntry
    from training.layout import TrainingPaths


@click.command("ab")
@companion_option
@click.option("--n", "count", type=click.IntRange(min=1), default=10, show_default=True)
@run_option
@click.option("--report", is_flag=True, help="Only print the win rate recorded so far.")
@click.option("--seed", type=int, help="Seed for the prompts' order, the sides and sampling.")
@json_option
@pass_context
def ab(
    ctx: CliContext,
    companion_name: str | None,
    count: int,
    run_dir: Path | None,
    report: bool,
    seed: int | None,
    as_json: bool,
) -> None:
    """Blind A/B test: pick the better of two replies; reports the tuned model's win rate."""
    from runtime.ab import read_choices, summarize
    from runtime.companions import CompanionRegistry
    from training.layout import TrainingPaths
    from training.runs import load_run

    entry = CompanionRegistry(ctx.home).resolve(companion_name)
    paths = TrainingPaths(entry.paths)
    if report:
        run_name = load_run(paths, run_dir).name if run_dir or paths.runs() else None
    else:
        run = load_run(paths, run_dir)
        run_name = run.name
        _interactive(ctx, entry, paths, run_name, count, seed)
    result = summarize(record["choice"] for record in read_choices(paths.ab_file, run_name))
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(f"run {run_name or '(all)'}: {result.summary()}")


def _adapter_and_base(
    ctx: CliContext, entry: CompanionEntry, paths: TrainingPaths, run_name: str
) -> tuple[Path, Path]:
    """The run's exported adapter, and the base GGUF it was exported for."""
    from runtime.chat.setup import chat_model
    from runtime.engine import manifest_path
    from runtime.errors import NotFoundError

    adapter = paths.adapters_dir / f"{run_name}.gguf"
    if not adapter.is_file():
        raise NotFoundError(
            f"the run {run_name} has no exported adapter ({adapter})",
            hint=f"export it first: hearth train export --companion {entry.slug}",
        )
    try:
        recorded = json.loads(manifest_path(adapter).read_text(encoding="utf-8")).get("base_gguf")
    except (OSError, ValueError, AttributeError):
        recorded = None
    base = (
        Path(recorded) if recorded and Path(recorded).is_file() else chat_model(entry, ctx.config)
    )
    return adapter, base


def _interactive(
    ctx: CliContext,
    entry: CompanionEntry,
    paths: TrainingPaths,
    run_name: str,
    count: int,
    seed: int | None,
) -> None:
    """Show the trials one by one and record each choice."""
    import random

    from rich.console import Console

    from runtime.ab import KEYS, blind_trials, load_prompts, record_choice, reply
    from runtime.engine import Engine, EngineConfig

    prompts = load_prompts(paths.dataset_dir / "eval.jsonl", count, seed=seed or 0)
    adapter, base = _adapter_and_base(ctx, entry, paths, run_name)
    companion = entry.companion
    settings = companion.generation
    context = companion.generation.context_size or ctx.config.llama.context_size
    llama = ctx.config.llama
    common = {"context_size": context, "threads": llama.threads, "gpu_layers": llama.gpu_layers}
    status = Console(stderr=True).status
    sample_seed = settings.seed if settings.seed is not None else random.randrange(2**31)
    with status("Loading the base model and the tuned one…"):
        base_engine = Engine.load(EngineConfig(model=base, **common))
        try:
            tuned_engine = Engine.load(
                EngineConfig(model=base, adapter=adapter, adapter_scale=1.0, **common)
            )
        except BaseException:
            base_engine.close()
            raise
    try:
        trials = blind_trials(prompts, seed=seed)
        for number, trial in enumerate(trials, 1):
            with status(f"Writing both replies ({number}/{len(trials)})…"):
                turn_seed = sample_seed + number
                base_text = reply(base_engine, trial.prompt.messages, settings, turn_seed)
                tuned_text = reply(tuned_engine, trial.prompt.messages, settings, turn_seed)
            a, b = trial.order(base_text, tuned_text)
            click.echo(f"\n── {number}/{len(trials)} ── you: {trial.prompt.user_text}")
            click.echo(f"\n[1] A: {a}\n\n[2] B: {b}\n")
            key = click.prompt(
                "Better? 1 = A, 2 = B, = tie, s skip, q quit",
                type=click.Choice(list(KEYS)),
                show_choices=False,
            )
            if KEYS[key] == "quit":
                break
            record_choice(paths.ab_file, run_name, trial, trial.choice(KEYS[key]))
    finally:
        tuned_engine.close()
        base_engine.close()
