"""`hearth train`: dataset → run → export → eval / ab, one command per step.

Reached through the `hearth.commands` entry point group (the runtime never imports training).
Each step lives in its own module; the group loads a step's module only when that step runs,
so `hearth train --help` does not import torch.
"""

from __future__ import annotations

import importlib

import click

STEPS: dict[str, tuple[str, str, str]] = {
    # name: (module, attribute, one-line help shown by `hearth train --help`)
    "dataset": ("training.dataset_cli", "dataset", "Build train/eval JSONL from the transcript."),
    "run": ("training.run_cli", "run", "Fine-tune a LoRA/QLoRA adapter with trl."),
    "export": ("training.export_cli", "export", "Convert the adapter to GGUF and use it."),
    "eval": ("training.eval_cli", "eval_command", "Held-out loss: base vs tuned."),
    "ab": ("training.ab_cli", "ab", "Blind A/B test: base vs tuned replies."),
}


class LazyStepGroup(click.Group):
    """A group whose subcommands are imported only when they run (or show their help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(STEPS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in STEPS:
            return None
        module, attribute, _ = STEPS[cmd_name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help from the table, so listing the steps imports none of them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, _, text) in STEPS.items()])


@click.group("train", cls=LazyStepGroup)
def train() -> None:
    """Tune the companion on its own conversations (needs the train extra)."""
