"""Training presets and the resolved run configuration: preset → `--config FILE` → CLI flags.

| preset     | targets                         | method                                   |
|------------|---------------------------------|------------------------------------------|
| `cpu-tiny` | any CPU; tests and smoke runs   | LoRA r=8, fp32, batch 4, 512 tokens      |
| `12gb`     | 8B model on a 12 GB GPU         | QLoRA NF4, bf16, r=16, 1 × 16, 2048 tok  |
| `24gb`     | 8B model on a 24 GB GPU         | QLoRA NF4, bf16, r=32, 4 × 4, 4096 tok   |

The 12 GB figure is the 8B QLoRA peak at 2048 tokens with gradient checkpointing (4-bit base
≈ 5.3 GB + activations + adapter and 8-bit paged optimizer states: ≈ 8.8 GB estimated);
prints the estimate and measures it where a GPU is present. A config file (TOML or JSON) holds
any of `TrainConfig`'s fields; unknown keys are an error naming the key and the file.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runtime.errors import ConfigError, UsageError

Quantization = Literal["none", "nf4"]
Precision = Literal["float32", "bfloat16", "float16"]


class TrainConfig(BaseModel):
    """Everything one training run depends on; saved as `config.json` beside its outputs."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    preset: str = "cpu-tiny"
    """The preset these values started from."""
    target_vram_gb: float | None = None
    """GPU memory the preset is sized for (None: CPU)."""
    quantization: Quantization = "none"
    """`nf4`: load the base in 4-bit NF4 with bitsandbytes (QLoRA; made for CUDA, runs on the
    CPU too with --allow-cpu-fallback, slowly)."""
    dtype: Precision = "float32"
    """Compute dtype of the base and the training (bf16 on GPUs that have it)."""
    lora_r: int = Field(8, ge=1)
    """LoRA rank."""
    lora_alpha: int = Field(16, ge=1)
    """LoRA scale numerator (the adapter is scaled by alpha / r)."""
    lora_dropout: float = Field(0.05, ge=0.0, lt=1.0)
    """Dropout on the LoRA input."""
    target_modules: list[str] | str = "all-linear"
    """Which linear layers get adapters (`all-linear`: every one but the output head)."""
    use_rslora: bool = False
    """Refused: the GGUF LoRA converter writes only lora_alpha, so rsLoRA scaling would be lost."""
    use_dora: bool = False
    """Refused: llama.cpp's LoRA format has no DoRA magnitudes."""
    learning_rate: float = Field(2e-4, gt=0)
    """Peak learning rate (linear decay after warmup)."""
    warmup_ratio: float = Field(0.03, ge=0.0, lt=1.0)
    """Fraction of the steps spent warming up."""
    weight_decay: float = Field(0.0, ge=0.0)
    """AdamW weight decay."""
    epochs: float = Field(2.0, gt=0)
    """Passes over the training set (ignored when max_steps is set)."""
    max_steps: int = -1
    """Stop after this many optimizer steps (-1: run the epochs)."""
    batch_size: int = Field(4, ge=1)
    """Sequences per device per micro-batch."""
    grad_accum: int = Field(1, ge=1)
    """Micro-batches per optimizer step."""
    max_length: int = Field(512, ge=16)
    """Longest training sequence in tokens (longer windows are cut at the end)."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: far less memory, ~30 % slower."""
    optim: str = "adamw_torch"
    """Optimizer name as transformers knows it (`paged_adamw_8bit` needs bitsandbytes)."""
    eval_steps: int = Field(50, ge=1)
    """Evaluate every N steps (and at the start and the end)."""
    save_steps: int = Field(50, ge=1)
    """Write `checkpoint-N/` every N steps."""
    save_total_limit: int = Field(3, ge=1)
    """Checkpoints kept (older ones are deleted)."""
    logging_steps: int = Field(5, ge=1)
    """Log loss and learning rate every N steps."""
    seed: int = 0
    """Seed for initialisation and data order."""


PRESETS: dict[str, dict[str, Any]] = {
    "cpu-tiny": {},
    "12gb": {
        "target_vram_gb": 12,
        "quantization": "nf4",
        "dtype": "bfloat16",
        "lora_r": 16,
        "lora_alpha": 32,
        "batch_size": 1,
        "grad_accum": 16,
        "max_length": 2048,
        "gradient_checkpointing": True,
        "optim": "paged_adamw_8bit",
        "learning_rate": 2e-4,
        "eval_steps": 100,
        "save_steps": 100,
        "logging_steps": 10,
    },
    "24gb": {
        "target_vram_gb": 24,
        "quantization": "nf4",
        "dtype": "bfloat16",
        "lora_r": 32,
        "lora_alpha": 64,
        "batch_size": 4,
        "grad_accum": 4,
        "max_length": 4096,
        "gradient_checkpointing": True,
        "optim": "paged_adamw_8bit",
        "learning_rate": 1e-4,
        "eval_steps": 100,
        "save_steps": 100,
        "logging_steps": 10,
    },
}


def load_config_file(path: Path) -> dict[str, Any]:
    """The fields in a TOML or JSON config file (a `[train]` table in TOML is also accepted)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ConfigError(f"{path} is not valid {kind}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a table of settings")
    return data.get("train", data) if isinstance(data.get("train"), dict) else data


def resolve_config(
    preset: str,
    config_file: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """The run's configuration: the preset, then the file's fields, then `overrides` (CLI flags).

    `overrides` with a value of None are ignored, so unset flags do not erase file values.
    """
    if preset not in PRESETS:
        raise UsageError(
            f"unknown preset '{preset}'", hint=f"--preset is one of: {', '.join(PRESETS)}"
        )
    fields: dict[str, Any] = {**PRESETS[preset]}
    source = f"preset {preset}"
    if config_file is not None:
        file_fields = load_config_file(config_file)
        file_fields.pop("preset", None)
        fields.update(file_fields)
        source = str(config_file)
    fields.update({key: value for key, value in (overrides or {}).items() if value is not None})
    try:
        config = TrainConfig(preset=preset, **fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "?"
        raise ConfigError(
            f"bad training setting '{key}' ({first['msg']}) in {source}",
            hint="see the fields of TrainConfig in training/presets.py",
        ) from exc
    refuse_unsupported(config)
    return config


def refuse_unsupported(config: TrainConfig) -> None:
    """rsLoRA and DoRA train adapters that the GGUF export cannot represent."""
    for name in ("use_rslora", "use_dora"):
        if getattr(config, name):
            raise ConfigError(
                f"{name} is not supported: the GGUF LoRA export keeps only lora_alpha and the "
                "low-rank matrices, so the adapter would behave differently in chat",
                hint=f"remove {name} from the config (plain LoRA: set lora_alpha instead)",
            )
