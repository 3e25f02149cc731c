"""`hearth train run`: fine-tune a LoRA (QLoRA on a GPU) adapter on a companion's dataset.

The companion's folders give the defaults: data from `training/dataset/`, a new run folder under
`training/runs/`. The recipe itself is `training.train.train` (also runnable on its own and under
`accelerate launch`); this module only turns flags into its options and prints the summary.
"""

from __future__ import annotations

from pathlib import Path

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.memory_common import companion_option
from runtime.cli.output import json_option, print_json
from runtime.companions import CompanionRegistry
from runtime.errors import UsageError
from training.cli_options import data_option
from training.layout import TrainingPaths
from training.presets import PRESETS

PRESET_HELP = (
    "cpu-tiny: LoRA on a CPU (tests, smoke runs); 12gb: 8B QLoRA NF4 at 2048 tokens on a 12 GB "
    "GPU; 24gb: 8B QLoRA r=32 at 4096 tokens on a 24 GB GPU. "
    "Default: 12gb with CUDA, else cpu-tiny."
)


@click.command("run")
@companion_option
@click.option(
    "--base", metavar="PATH_OR_REPO", help="HF model folder, or a repo id in the HF cache."
)
@click.option("--preset", type=click.Choice(list(PRESETS)), help=PRESET_HELP)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML or JSON file with settings that override the preset.",
)
@click.option("--max-steps", type=click.IntRange(min=1), help="Stop after N optimizer steps.")
@click.option("--epochs", type=click.FloatRange(min=0, min_open=True), help="Passes over the data.")
@data_option("train.jsonl and eval.jsonl")
@click.option(
    "--chat-template",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Jinja template with {% generation %} markers, identical to the model's own.",
)
@click.option(
    "--resume",
    "resume",
    is_flag=False,
    flag_value="latest",
    default=None,
    metavar="[RUN_DIR]",
    help="Continue the latest (or given) run from its last checkpoint.",
)
@click.option(
    "--allow-cpu-fallback",
    is_flag=True,
    help="Without a CUDA GPU, train on the CPU (QLoRA if bitsandbytes is installed, else a "
    "plain LoRA) instead of failing.",
)
@json_option
@pass_context
def run(
    ctx: CliContext,
    companion_name: str | None,
    base: str | None,
    preset: str | None,
    config_file: Path | None,
    max_steps: int | None,
    epochs: float | None,
    data_dir: Path | None,
    chat_template: Path | None,
    resume: str | None,
    allow_cpu_fallback: bool,
    as_json: bool,
) -> None:
    """Fine-tune an adapter for the companion with trl (LoRA; QLoRA on a CUDA GPU)."""
    from training.train import options_from, train

    entry = CompanionRegistry(ctx.ensured_home()).resolve(companion_name)
    paths = TrainingPaths(entry.paths)
    if resume is None:
        out_dir = paths.new_run_dir()
        if out_dir.exists():
            raise UsageError(f"{out_dir} already exists", hint="wait a second and run again")
    elif resume == "latest":
        out_dir = paths.latest_run()
    else:
        out_dir = Path(resume)
    options = options_from(
        base=base, data_dir=data_dir or paths.dataset_dir, out_dir=out_dir, preset=preset,
        config_file=config_file, overrides={"max_steps": max_steps, "epochs": epochs},
        chat_template=chat_template, resume=resume is not None,
        allow_cpu_fallback=allow_cpu_fallback,
    )  # fmt: skip
    summary = train(options)
    if as_json:
        print_json(summary)
        return
    click.echo(f"trained {summary['steps']} steps in {summary['seconds']:.0f} s "
               f"({summary['preset']}, {summary['chat_template']} template)")  # fmt: skip
    start, end = summary["eval_loss_start"], summary["eval_loss_end"]
    if start is not None and end is not None:
        click.echo(f"eval loss {start:.4f} → {end:.4f}")
    click.echo(f"adapter: {summary['adapter']}")
    click.echo(f"next: hearth train export --companion {entry.name}")
