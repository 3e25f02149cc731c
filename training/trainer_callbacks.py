"""What a run shows and records as it goes: a progress bar on stderr and `metrics.jsonl`.

Only numbers are written (step, epoch, loss, eval loss, learning rate, tokens/s…), never text
from the conversations. Both callbacks act on the main process only (`accelerate launch`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

# Trainer's log keys → the names in metrics.jsonl.
RENAMED = {"train_loss": "train_loss", "train_runtime": "seconds"}


class MetricsCallback(TrainerCallback):
    """Appends one JSON object per log or eval event to `metrics.jsonl`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.monotonic()
        self.tokens_at_start: int | None = None

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self.started = time.monotonic()
        self.tokens_at_start = state.num_input_tokens_seen

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero or not logs:
            return
        record: dict[str, Any] = {"step": state.global_step, "epoch": round(state.epoch or 0, 4)}
        for key, value in logs.items():
            if isinstance(value, int | float) and key not in ("epoch", "total_flos"):
                record[RENAMED.get(key, key)] = value
        seconds = time.monotonic() - self.started
        tokens = state.num_input_tokens_seen - (self.tokens_at_start or 0)
        if tokens and seconds > 0:
            record["tokens_per_second"] = round(tokens / seconds, 1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


class ProgressCallback(TrainerCallback):
    """A rich progress bar on stderr: steps done, loss, eval loss, time left (terminals only)."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar: Any = None
        self.task: Any = None
        self.loss = "–"
        self.eval_loss = "–"

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if not (self.enabled and state.is_world_process_zero):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
            TextColumn("loss {task.fields[loss]}  eval {task.fields[eval_loss]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
        )  # fmt: skip
        self.task = self.bar.add_task(
            "train", total=state.max_steps, completed=state.global_step, loss="–", eval_loss="–"
        )
        self.bar.start()

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=state.global_step)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if self.bar is None or not logs:
            return
        if "loss" in logs:
            self.loss = f"{logs['loss']:.3f}"
        if "eval_loss" in logs:
            self.eval_loss = f"{logs['eval_loss']:.3f}"
        self.bar.update(self.task, loss=self.loss, eval_loss=self.eval_loss)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
