"""`hearth train eval`: held-out loss and perplexity of the base model vs the tuned one.

hearth train eval --companion Mira                 # latest run, dataset/eval.jsonl
hearth train eval --companion Mira --json --max-examples 200
"""

from __future__ import annotations

from pathlib import Path

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.memory_common import companion_option
from runtime.cli.output import json_option, print_json
from training.cli_options import data_option, run_option


@click.command("eval")
@companion_option
@run_option
@data_option("eval.jsonl")
@click.option("--max-examples", type=click.IntRange(min=1), help="Evaluate at most N examples.")
@json_option
@pass_context
def eval_command(
    ctx: CliContext,
    companion_name: str | None,
    run_dir: Path | None,
    data_dir: Path | None,
    max_examples: int | None,
    as_json: bool,
) -> None:
    """Held-out loss/perplexity on the companion's replies: base vs tuned."""
    from rich.console import Console
    from rich.progress import Progress

    from runtime.companions import CompanionRegistry
    from training.evaluate import evaluate_run, load_eval_examples
    from training.layout import TrainingPaths
    from training.runs import load_run

    entry = CompanionRegistry(ctx.home).resolve(companion_name)
    paths = TrainingPaths(entry.paths)
    run = load_run(paths, run_dir)
    examples = load_eval_examples((data_dir or paths.dataset_dir) / "eval.jsonl", max_examples)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("Evaluating base and tuned…", total=len(examples))
        report = evaluate_run(
            run, examples, progress=lambda done: progress.update(task, completed=done)
        )
    data = report.to_dict()
    if as_json:
        print_json(data)
        return
    click.echo(f"run {report.run}: {report.examples} examples, {report.tokens} reply tokens")
    click.echo(
        f"base:  loss {data['base_eval_loss']:.4f}  perplexity {data['base_perplexity']:.2f}"
    )
    click.echo(
        f"tuned: loss {data['tuned_eval_loss']:.4f}  perplexity {data['tuned_perplexity']:.2f}"
    )
