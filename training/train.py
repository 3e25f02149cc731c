"""LoRA / QLoRA fine-tuning of a base model on a companion's SFT dataset (trl SFTTrainer + peft).

    python -m training.train --base DIR --data DIR --out DIR --preset cpu-tiny

    accelerate launch -m training.train --base DIR --data DIR --out DIR --preset 24gb  # multi-GPU

`--data DIR` holds `train.jsonl` and `eval.jsonl` (written by `hearth train dataset`). `--out DIR`
receives `config.json` (the resolved config), `metrics.jsonl`, `checkpoint-N/`, `adapter/` (the
peft adapter and the tokenizer) and `run.json` (the summary `hearth train export` reads).
`--resume` continues `--out DIR` from its last checkpoint. `hearth train run --companion NAME`
calls `train()` with the companion's folders.

The recipe, top to bottom: settle the config (preset → file → flags; QLoRA needs CUDA), find the
base offline, pick the chat template with generation markers, tokenize (loss only on assistant
turns of weight 1), load the model (4-bit for QLoRA), train with eval loss and checkpoints, save.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.errors import HearthError, NotFoundError
from training.presets import PRESETS, TrainConfig, resolve_config
from training.runs import RUN_SUMMARY

if TYPE_CHECKING:
    from transformers import TrainerCallback
    from trl import SFTConfig

log = logging.getLogger(__name__)
BASE_KEYS = ("base", "data", "chat_template", "chat_template_origin")


@dataclass(frozen=True)
class TrainOptions:
    """One run: where things are and the resolved config."""

    base: str
    data_dir: Path
    out_dir: Path
    config: TrainConfig
    chat_template: Path | None = None
    resume: bool = False
    allow_cpu_fallback: bool = False
    progress: bool | None = None


def sft_config(config: TrainConfig, out_dir: Path, cuda: bool) -> SFTConfig:
    """trl's arguments for `config` (evaluation at the start, every eval_steps and at the end)."""
    from trl import SFTConfig

    return SFTConfig(
        output_dir=str(out_dir),
        max_steps=config.max_steps,
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        optim=config.optim,
        bf16=config.dtype == "bfloat16",
        fp16=config.dtype == "float16",
        activation_checkpointing=config.gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False},
        max_length=config.max_length,
        packing=False,
        assistant_only_loss=False,  # the mask is built in trainer_data (weight-0 turns too)
        eval_strategy="steps",
        eval_steps=config.eval_steps,
        eval_on_start=True,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        include_num_input_tokens_seen="non_padding",
        report_to="none",
        disable_tqdm=True,
        seed=config.seed,
        use_cpu=not cuda,
        dataloader_pin_memory=cuda,
    )


def last_checkpoint(run_dir: Path) -> Path:
    """The newest `checkpoint-N/` in a run, or a NotFoundError."""
    from transformers.trainer_utils import get_last_checkpoint

    found = get_last_checkpoint(str(run_dir)) if run_dir.is_dir() else None
    if not found:
        raise NotFoundError(
            f"no checkpoint-N folder in {run_dir}", hint="start a new run without --resume"
        )
    return Path(found)


def saved_config(run_dir: Path) -> tuple[dict[str, Any], TrainConfig]:
    """What a run's `config.json` says: its paths and its TrainConfig."""
    try:
        data = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise NotFoundError(
            f"{run_dir} has no readable config.json", hint="start a new run"
        ) from exc
    paths = {key: data.pop(key, None) for key in BASE_KEYS}
    return paths, TrainConfig(**data)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Every record of a run's `metrics.jsonl` (empty when there is none yet)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_json(path: Path, data: dict[str, Any]) -> None:
    """`data` as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def train(options: TrainOptions, callbacks: list[TrainerCallback] | None = None) -> dict[str, Any]:
    """Run the recipe; returns the summary also written to `run.json`."""
    started = time.monotonic()
    from training.templates import marked_template
    from training.trainer_data import load_split
    from training.trainer_model import (
        check_hardware,
        has_cuda,
        load_model,
        load_tokenizer,
        lora_config,
        resolve_base,
    )

    config = check_hardware(options.config, allow_cpu_fallback=options.allow_cpu_fallback)
    out_dir = options.out_dir
    checkpoint = last_checkpoint(out_dir) if options.resume else None
    base = resolve_base(options.base)
    tokenizer = load_tokenizer(base)
    template, origin = marked_template(tokenizer, options.chat_template)
    train_set, trained_tokens = load_split(options.data_dir / "train.jsonl", tokenizer, template)
    eval_set, _ = load_split(options.data_dir / "eval.jsonl", tokenizer, template)

    import datasets
    from transformers import PrinterCallback
    from transformers.utils import logging as transformers_logging
    from trl import SFTTrainer

    datasets.disable_progress_bars()  # the run's own bar is the one progress display
    transformers_logging.disable_progress_bar()

    from training.trainer_callbacks import MetricsCallback, ProgressCallback

    cuda = has_cuda()
    args = sft_config(config, out_dir, cuda)
    if args.process_index == 0:
        resolved = {"base": str(base), "data": str(options.data_dir)}
        resolved |= {
            "chat_template": str(options.chat_template or ""),
            "chat_template_origin": origin,
        }
        write_json(out_dir / "config.json", resolved | config.model_dump())
    log.info("training on %d windows (%d trained tokens)", len(train_set), trained_tokens)
    trainer = SFTTrainer(
        model=load_model(base, config),
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=[
            MetricsCallback(out_dir / "metrics.jsonl"),
            ProgressCallback(options.progress),
            *(callbacks or []),
        ],
    )
    trainer.remove_callback(PrinterCallback)  # metrics go to metrics.jsonl, not stdout
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    evaluated = [entry for entry in trainer.state.log_history if "eval_loss" in entry]
    if not evaluated or evaluated[-1].get("step") != trainer.state.global_step:
        trainer.evaluate()
    adapter_dir = out_dir / "adapter"
    trainer.save_model(str(adapter_dir))  # adapter_config.json + safetensors + the tokenizer
    evals = [m["eval_loss"] for m in read_metrics(out_dir / "metrics.jsonl") if "eval_loss" in m]
    summary: dict[str, Any] = {
        "base": str(base),
        "preset": config.preset,
        "quantization": config.quantization,
        "steps": trainer.state.global_step,
        "train_loss": round(result.training_loss, 6),
        "eval_loss_start": evals[0] if evals else None,
        "eval_loss_end": evals[-1] if evals else None,
        "trained_tokens": trained_tokens,
        "chat_template": origin,
        "adapter": str(adapter_dir),
        "seconds": round(time.monotonic() - started, 1),
    }
    if checkpoint is not None:
        summary["resumed_from"] = str(checkpoint)
    if trainer.is_world_process_zero():
        write_json(out_dir / RUN_SUMMARY, summary)
    return summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The standalone command line (the same knobs as `hearth train run`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", help="HF model folder or a repo id in the local HF cache")
    parser.add_argument("--data", type=Path, required=True, help="folder with train/eval.jsonl")
    parser.add_argument("--out", type=Path, required=True, help="the run folder to write")
    parser.add_argument("--preset", choices=list(PRESETS), default=None)
    parser.add_argument("--config", type=Path, help="TOML or JSON file overriding the preset")
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--epochs", type=float)
    parser.add_argument("--chat-template", type=Path, help="a marked Jinja template file")
    parser.add_argument("--resume", action="store_true", help="continue --out from its checkpoint")
    parser.add_argument("--allow-cpu-fallback", action="store_true")
    return parser.parse_args(argv)


def options_from(
    *,
    base: str | None,
    data_dir: Path,
    out_dir: Path,
    preset: str | None,
    config_file: Path | None,
    overrides: dict[str, Any],
    chat_template: Path | None = None,
    resume: bool = False,
    allow_cpu_fallback: bool = False,
) -> TrainOptions:
    """TrainOptions from command-line values; a resumed run takes its saved config and base."""
    if resume:
        paths, saved = saved_config(out_dir)
        config = saved.model_copy(update={k: v for k, v in overrides.items() if v is not None})
        template = paths.get("chat_template") or None
        return TrainOptions(
            base=base or paths["base"], data_dir=Path(paths["data"] or data_dir), out_dir=out_dir,
            config=config, chat_template=chat_template or (Path(template) if template else None),
            resume=True, allow_cpu_fallback=allow_cpu_fallback,
        )  # fmt: skip
    if not base:
        raise HearthError("--base is required", hint="--base PATH_OR_REPO (a HF model folder)")
    if preset is None:
        from training.trainer_model import has_cuda

        preset = "12gb" if has_cuda() else "cpu-tiny"
    config = resolve_config(preset, config_file, overrides)
    return TrainOptions(
        base=base, data_dir=data_dir, out_dir=out_dir, config=config,
        chat_template=chat_template, allow_cpu_fallback=allow_cpu_fallback,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """`python -m training.train …`: train, print the summary as JSON; errors as one line + hint."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        options = options_from(
            base=args.base, data_dir=args.data, out_dir=args.out, preset=args.preset,
            config_file=args.config,
            overrides={"max_steps": args.max_steps, "epochs": args.epochs},
            chat_template=args.chat_template, resume=args.resume,
            allow_cpu_fallback=args.allow_cpu_fallback,
        )  # fmt: skip
        summary = train(options)
    except HearthError as error:
        print(f"error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return error.exit_code
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
